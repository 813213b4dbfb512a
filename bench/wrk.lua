-- wrk.lua: requests for bench/run.  Environment:
--   BENCH_PATH  path, where "{id}" is replaced by a random id from
--   BENCH_IDS   a file of task ids, one a line (read once per thread)
--   BENCH_METHOD (default GET), BENCH_BODY a file sent as the body (with
--   Content-Type: application/json), BENCH_INM an If-None-Match value
-- At the end prints one machine-readable line:
--   RESULT <requests/s> <p50 ms> <p99 ms> <requests> <errors>
local path = os.getenv("BENCH_PATH") or "/api/tasks"
local idfile = os.getenv("BENCH_IDS")
local ids, n = {}, 0
local method = os.getenv("BENCH_METHOD") or "GET"
local bodyfile = os.getenv("BENCH_BODY")
local inm = os.getenv("BENCH_INM")
local body, headers = nil, {}

if bodyfile then
	local f = io.open(bodyfile, "rb")
	body = f:read("*a")
	f:close()
	headers["Content-Type"] = "application/json"
end
if inm then
	headers["If-None-Match"] = inm
end

if idfile and path:find("{id}", 1, true) then
	for line in io.lines(idfile) do
		n = n + 1
		ids[n] = line
	end
end

function init(args)
	math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
	local p = path
	if n > 0 then
		p = path:gsub("{id}", ids[math.random(n)])
	end
	return wrk.format(method, p, headers, body)
end

function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local errs = summary.errors.connect + summary.errors.read +
	    summary.errors.write + summary.errors.status + summary.errors.timeout
	io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
	    summary.requests / secs, latency:percentile(50) / 1000,
	    latency:percentile(99) / 1000, summary.requests, errs))
end
