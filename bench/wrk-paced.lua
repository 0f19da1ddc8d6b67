-- wrk script for a fixed request rate below the peak (bench/rankings.sh, step 3): like
-- wrk-auth.lua it sends CAPMATCH_TOKEN as a bearer token, and each connection waits
-- CAPMATCH_DELAY_MS milliseconds (a decimal) after every response before its next request,
-- so that C connections send about C * 1000 / (delay + latency) requests per second. wrk
-- waits whole milliseconds, so a fractional delay is drawn as its floor or its ceiling with
-- the probability that gives the right mean. wrk is much lighter than a Go generator, so on a
-- 2-core machine it leaves the server the CPU it would have in production.
local token = os.getenv("CAPMATCH_TOKEN")
if token == nil or token == "" then
  error("set CAPMATCH_TOKEN to an access token")
end
wrk.headers["Authorization"] = "Bearer " .. token

local mean = tonumber(os.getenv("CAPMATCH_DELAY_MS") or "")
if mean == nil or mean < 0 then
  error("set CAPMATCH_DELAY_MS to the delay between a response and the next request, in ms")
end
local low = math.floor(mean)
local frac = mean - low

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function delay()
  if math.random() < frac then
    return low + 1
  end
  return low
end
