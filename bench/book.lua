-- book.lua - wrk script: POST /api/v1/rdv/bookings, shared by bench/rdv
-- (one server) and bench/scale (nodes behind nginx).
-- SLOTS: file of "place start" lines (bench/rdv's `driver slots`,
-- bench/scale/prepare.py); MOTIF: the motif as JSON (an id, or a code in
-- quotes). MODE=race: every request takes one of the first RACE_SLOTS
-- slots at random (many clients on few slots: contention across nodes);
-- MODE=distinct: each request its own slot (thread k takes OFFSET + k,
-- then steps by WRK_THREADS; out of slots, the first again: a conflict).
-- Prints book_2xx / book_409 / book_other counts, the first "other"
-- answer, the run's seconds and p99 (the benches compare the 2xx count
-- with the bookings found in the database).
local slots = {}
for line in io.lines(os.getenv("SLOTS")) do
  local p, s = line:match("^(%d+) (%S+)$")
  if p then slots[#slots + 1] = {p, s} end
end
local motif = os.getenv("MOTIF")
local mode = os.getenv("MODE") or "race"
local race = tonumber(os.getenv("RACE_SLOTS") or "50")
local threads, nthreads = {}, 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("id", nthreads)
  table.insert(threads, thread)
end

function init(args)
  step = tonumber(os.getenv("WRK_THREADS") or "1")
  idx = id + tonumber(os.getenv("OFFSET") or "0")
  n = 0
  ok, conflicts, others = 0, 0, 0
  math.randomseed(id * 7919 + os.time())
end

function request()
  local sl
  if mode == "race" then
    sl = slots[math.random(1, math.min(race, #slots))]
  else
    sl = slots[idx] or slots[1]
    idx = idx + step
  end
  n = n + 1
  local who = id * 1000000 + n
  local body = string.format(
    '{"c":"99001","motif":%s,"place":%s,"start":"%s",' ..
    '"name":"Banc %d","email":"banc-%d@exemple.fr","consent":true}',
    motif, sl[1], sl[2], who, who)
  return wrk.format("POST", "/api/v1/rdv/bookings",
                    {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  elseif status == 409 then
    conflicts = conflicts + 1
  else
    others = others + 1
    if not example then
      example = status .. " " .. (body or ""):sub(1, 160):gsub("\n", " ")
    end
  end
end

function done(summary, latency, requests)
  local c, k, o, ex = 0, 0, 0, nil
  for _, t in ipairs(threads) do
    c = c + t:get("ok")
    k = k + t:get("conflicts")
    o = o + t:get("others")
    ex = ex or t:get("example")
  end
  io.write(string.format("book_2xx %d\nbook_409 %d\nbook_other %d\n", c, k, o))
  if ex then io.write("book_other_example " .. ex .. "\n") end
  io.write(string.format("book_seconds %.3f\n", summary.duration / 1e6))
  io.write(string.format("book_p99_ms %.2f\n", latency:percentile(99) / 1000))
end
