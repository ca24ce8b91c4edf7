-- wrk script of tools/bench/serve_bench.py: one random msno per request, drawn from a file.
--
--   [SERVE_BENCH_PACE_MS=10] wrk -t2 -c32 -d20s --latency -s serve_wrk.lua http://127.0.0.1:PORT -- MODE MSNO_FILE
--
-- MODE: get   -> GET /v1/features/{msno} (percent-encoded: base64 holds / and +)
--       score -> POST /v1/score {"msno": ["..."]}
--       healthz -> GET /healthz (the HTTP stack's floor: no lookup, a constant answer)
-- SERVE_BENCH_PACE_MS (environment, > 0): each connection waits a random 0.5..1.5 x that many ms (whole ms, wrk's
-- delay()) before each request, so C connections send about C * 1000 / PACE_MS requests per second.
-- This is pacing, not wrk2's constant-rate schedule: latency is measured from the moment a request is
-- sent, with no coordinated-omission correction.
-- done() prints one line "SERVE_BENCH_JSON {...}" with the counts and percentiles in microseconds.

local mode = "get"
-- Read at load time: wrk decides whether the script paces (has delay()) before init() sees the arguments.
local pace = tonumber(os.getenv("SERVE_BENCH_PACE_MS") or "0") or 0
local paths, bodies, count = {}, {}, 0

local function encode(text)
  return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local thread_index = 0
function setup(thread)
  thread_index = thread_index + 1
  thread:set("seed", thread_index * 7919 + os.time())
end

function init(args)
  mode = args[1] or "get"
  local file = args[2]
  math.randomseed(seed or os.time())
  for line in io.lines(file) do
    if #line > 0 then
      count = count + 1
      if mode == "get" then
        paths[count] = "/v1/features/" .. encode(line)
      else
        bodies[count] = '{"msno":["' .. line .. '"]}'
      end
    end
  end
  if count == 0 then error("no msno in " .. tostring(file)) end
end

local score_headers = {["Content-Type"] = "application/json"}

function request()
  if mode == "healthz" then
    return wrk.format("GET", "/healthz")
  end
  local i = math.random(count)
  if mode == "get" then
    return wrk.format("GET", paths[i])
  end
  return wrk.format("POST", "/v1/score", score_headers, bodies[i])
end

if pace > 0 then
  function delay()
    return math.floor(pace * (0.5 + math.random()) + 0.5)
  end
end

function done(summary, latency, requests)
  local p = function(q) return latency:percentile(q) end
  local e = summary.errors
  io.write(string.format(
    'SERVE_BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.3f,"stdev":%.3f,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d,"p99_99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, p(50), p(90), p(99), p(99.9), p(99.99), latency.max))
end
