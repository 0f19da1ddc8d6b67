-- wrk script for capmatch's authenticated endpoints: sends the access token in
-- CAPMATCH_TOKEN as a bearer token on every request (bench/rankings.sh sets it).
local token = os.getenv("CAPMATCH_TOKEN")
if token == nil or token == "" then
  error("set CAPMATCH_TOKEN to an access token")
end
wrk.headers["Authorization"] = "Bearer " .. token
