-- wrk script for bench/run.py: send one kind of request and check every answer.
--
-- Arguments (after `--`): METHOD STATUS LOCATION COOKIE BODY
--   STATUS    the status every response must have (200 for a page, 302 for a save);
--   LOCATION  for a 302, the Location it must point to (catches a bounce to /login);
--   BODY      form body; "BENCH_N" in it becomes a per-request counter, so each save changes a value.
-- On completion prints one line: BENCH_RESULT {json}.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  method, status, location, body = args[1], tonumber(args[2]), args[3], args[5] or ""
  request_headers = {}
  if args[4] ~= "" then request_headers["Cookie"] = args[4] end
  if method == "POST" then request_headers["Content-Type"] = "application/x-www-form-urlencoded" end
  sent, unexpected = 0, 0
end

function request()
  sent = sent + 1
  return wrk.format(method, nil, request_headers, (body:gsub("BENCH_N", id .. "-" .. sent)))
end

function response(got, headers, _)
  if got ~= status or (status == 302 and headers["Location"] ~= location) then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, _)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("unexpected") end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "unexpected": %d, "errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad, e.connect + e.read + e.write + e.timeout))
end
