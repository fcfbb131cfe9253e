-- chat.lua - wrk script for POST /api/v1/chat on the demo commune (99001):
-- the demo question set (tests/data/demo_questions.tsv, passed after "--")
-- as first messages, and follow-ups (« et pour un mineur ? », « combien ça
-- coûte ? »...) in conversations this thread started. About half the
-- requests are each kind; a conversation gets at most 4 follow-ups.
--
-- usage: wrk -t2 -c64 -d10s --latency -s bench/assistant/chat.lua \
--            http://127.0.0.1:PORT -- tests/data/demo_questions.tsv

local questions = {}
local followups = {
    "et pour un mineur ?", "combien ça coûte ?", "et les délais ?",
    "quelles pièces fournir ?", "et si je n'habite pas la commune ?",
    "c'est ouvert le samedi ?", "et pour mon fils de 16 ans ?",
    "il faut prendre rendez-vous ?",
}
local convs = {}      -- conversations this thread may continue
local uses = {}       -- follow-ups sent per conversation
local n = 0

local function esc(s)
    return (s:gsub('\\', '\\\\'):gsub('"', '\\"'))
end

function init(args)
    local path = args[1] or "tests/data/demo_questions.tsv"
    local f = assert(io.open(path, "r"))
    local first = true
    for line in f:lines() do
        if not first then
            local q = line:match("^([^\t]+)\t")
            if q and #q > 0 then questions[#questions + 1] = q end
        end
        first = false
    end
    f:close()
    math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    n = n + 1
    local body
    if n % 2 == 0 and #convs > 0 then
        local i = math.random(#convs)
        local c = convs[i]
        uses[c] = (uses[c] or 0) + 1
        if uses[c] >= 4 then
            convs[i] = convs[#convs]
            convs[#convs] = nil
            uses[c] = nil
        end
        body = string.format('{"commune":"99001","conversation":"%s","message":"%s"}',
            c, esc(followups[math.random(#followups)]))
    else
        body = string.format('{"commune":"99001","message":"%s"}',
            esc(questions[math.random(#questions)]))
    end
    return wrk.format(nil, "/api/v1/chat", nil, body)
end

function response(status, headers, body)
    if status ~= 200 then return end
    -- Only new conversations (their first reply is the greeting).
    local c = body:match('"conversation":"([^"]+)"')
    if c and #convs < 256 and body:find('"type":"greeting"', 1, true) then
        convs[#convs + 1] = c
    end
end
