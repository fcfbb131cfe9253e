-- chat.lua - wrk script for POST /api/v1/chat on the demo commune (99001):
-- the demo question set (tests/data/demo_questions.tsv, passed after "--")
-- as first messages, and follow-ups (« et pour un mineur ? », « combien ça
-- coûte ? »...) in conversations this thread started. About half the
-- requests are each kind; a conversation gets at most 4 follow-ups.
--
-- Paced (optional, CHAT_RATE): each wrk thread sends CHAT_RATE /
-- CHAT_THREADS requests a second on a fixed schedule, one slot every
-- 1/rate seconds; a request whose slot has passed (all the thread's
-- connections were waiting) goes at once, so the schedule is caught up
-- after a slow moment, as residents would not wait either (up to a second
-- behind; beyond, the schedule starts over). The latency wrk prints is
-- then that of a server answering that load, not of one kept saturated by
-- 64 connections that resend the moment they are answered. wrk measures
-- from the moment a request is sent, not from its slot (wrk2 would): a
-- request held back because its connection was busy does not count the
-- wait, the request it waited for does.
--
-- usage: [CHAT_RATE=5000 CHAT_THREADS=2] wrk -t2 -c64 -d10s --latency \
--            -s bench/assistant/chat.lua http://127.0.0.1:PORT \
--            -- tests/data/demo_questions.tsv
-- (the rate comes from the environment because wrk decides whether a
-- script paces before it calls init: delay() exists only when paced.)

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

local rate = tonumber(os.getenv("CHAT_RATE") or "")
if rate and rate > 0 then
    -- milliseconds between two requests of this thread; its next free slot
    local gap_ms = 1000 * (tonumber(os.getenv("CHAT_THREADS") or "") or 1) / rate
    local next_ms = 0
    local ffi = require("ffi") -- wrk runs LuaJIT
    ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } chat_ts;
    int clock_gettime(int clk, chat_ts *ts);
    ]]
    local ts = ffi.new("chat_ts")
    local function now_ms()
        ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
        return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
    end
    function delay()
        local t = now_ms()
        if next_ms == 0 or next_ms < t - 1000 then
            next_ms = t -- start, or a second behind: start over from now
        end
        local slot = next_ms
        next_ms = next_ms + gap_ms
        return slot > t and slot - t or 0
    end
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
