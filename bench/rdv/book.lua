-- book.lua - wrk script: POST /api/v1/rdv/bookings, each request a
-- distinct free slot read from the file named by $SLOTS ("place start"
-- per line, one line per free counter, from `driver slots`); counts 201,
-- 409 and anything else per thread and prints them at the end.
local slots = {}
for line in io.lines(os.getenv("SLOTS")) do
  local p, s = line:match("^(%d+) (%S+)$")
  if p then slots[#slots + 1] = {p, s} end
end

local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("id", nthreads)
  table.insert(threads, thread)
end

function init(args)
  step = tonumber(os.getenv("WRK_THREADS") or "1")
  idx = id
  created, conflicts, others = 0, 0, 0
end

function request()
  local sl = slots[idx] or slots[1] -- out of slots: a conflict
  local n = idx
  idx = idx + step
  local body = string.format(
    '{"c":"99001","motif":"bench","place":%s,"start":"%s",' ..
    '"name":"Banc HTTP %d","email":"banc-http-%d@exemple.fr",' ..
    '"consent":true}', sl[1], sl[2], n, n)
  return wrk.format("POST", "/api/v1/rdv/bookings",
                    {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 409 then
    conflicts = conflicts + 1
  else
    others = others + 1
  end
end

function done(summary, latency, requests)
  local c, k, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    k = k + t:get("conflicts")
    o = o + t:get("others")
  end
  io.write(string.format("http_book_created %d\n", c))
  io.write(string.format("http_book_conflict %d\n", k))
  io.write(string.format("http_book_other %d\n", o))
  io.write(string.format("http_book_seconds %.3f\n", summary.duration / 1e6))
  io.write(string.format("http_book_p99_ms %.2f\n",
                         latency:percentile(99) / 1000))
end
