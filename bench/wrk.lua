-- wrk script for bench/load.py: send one kind of request and check every answer.
--
-- Arguments (after `--`): METHOD STATUS LOCATION COOKIE BODY [PATH FIRST COUNT THREADS]
--   STATUS    the status every response must have (200 for a page, 302 for a save);
--   LOCATION  for a 302, the Location it must point to (catches a bounce to /login);
--   BODY      form body; "BENCH_N" in it becomes a per-request counter, so each save changes a value.
--   PATH FIRST COUNT THREADS
--             a pool: every request takes a fresh id from FIRST .. FIRST+COUNT-1 for "BENCH_ID" in
--             PATH and LOCATION (thread t of THREADS takes ids t-1, t-1+THREADS, ...), for requests
--             that each use up what they act on (routing a deal). Past the pool, a request is sent
--             to id 0 and counted as exhausted.
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
  sent, unexpected, exhausted = 0, 0, 0
  if args[6] then
    pool_path, pool_first, pool_count, pool_step = args[6], tonumber(args[7]), tonumber(args[8]), tonumber(args[9])
    -- Responses do not say which request they answer: match the Location's shape, any id.
    location_pattern = "^" .. location:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?#]", "%%%0"):gsub("BENCH_ID", "%%d+") .. "$"
  end
end

function request()
  sent = sent + 1
  local path = nil
  if pool_path then
    local k = (sent - 1) * pool_step + (id - 1)
    local deal = 0
    if k < pool_count then deal = pool_first + k else exhausted = exhausted + 1 end
    path = pool_path:gsub("BENCH_ID", tostring(deal))
  end
  return wrk.format(method, path, request_headers, (body:gsub("BENCH_N", id .. "-" .. sent)))
end

function response(got, headers, _)
  if got ~= status then
    unexpected = unexpected + 1
  elseif status == 302 then
    local where = headers["Location"] or ""
    if location_pattern then
      if not where:match(location_pattern) then unexpected = unexpected + 1 end
    elseif where ~= location then
      unexpected = unexpected + 1
    end
  end
end

function done(summary, latency, _)
  local bad, out, max_sent = 0, 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("unexpected")
    out = out + thread:get("exhausted")
    max_sent = math.max(max_sent, thread:get("sent"))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "unexpected": %d, "errors": %d, '
      .. '"exhausted": %d, "max_sent": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad, e.connect + e.read + e.write + e.timeout, out, max_sent))
end
