-- wrk script: cycles through the request paths listed in $BENCH_PATHS (one per line), with
-- `Authorization: Bearer $BENCH_TOKEN` (or `Cookie: $BENCH_COOKIE`), and prints one JSON line of results when done.
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  if #line > 0 then
    paths[#paths + 1] = line
  end
end
local token = os.getenv("BENCH_TOKEN") or ""
if #token > 0 then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local cookie = os.getenv("BENCH_COOKIE") or ""
if #cookie > 0 then -- a page of the site: the session instead of the token
  wrk.headers["Authorization"] = nil
  wrk.headers["Cookie"] = cookie
end
local i = 0

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors_connect": %d, '
      .. '"errors_read": %d, "errors_write": %d, "errors_status": %d, "errors_timeout": %d, '
      .. '"latency_p50_us": %d, "latency_p99_us": %d, "latency_mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.mean))
end
