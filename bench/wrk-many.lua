-- wrk script for many rankings, callers and languages (bench/rankworld.sh): reads the
-- tab-separated requests (path, access token, language) in CAPMATCH_REQUESTS and sends them
-- round-robin, each thread from its own starting point, with the caller's Authorization and
-- Accept-Language headers, and the Accept-Encoding in CAPMATCH_ENCODING if set (as browsers send
-- "gzip, deflate, br").
local file = os.getenv("CAPMATCH_REQUESTS")
if file == nil or file == "" then
  error("set CAPMATCH_REQUESTS to the requests file cmd/capmatch-rankworld wrote")
end
local encoding = os.getenv("CAPMATCH_ENCODING")
local reqs = {}
local i = 0

-- The requests are formatted in init: wrk knows the host only once the threads start.
function init(args)
  for line in io.lines(file) do
    local path, token, lang = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
    if path then
      local headers = { ["Authorization"] = "Bearer " .. token, ["Accept-Language"] = lang }
      if encoding ~= nil and encoding ~= "" then
        headers["Accept-Encoding"] = encoding
      end
      reqs[#reqs + 1] = wrk.format("GET", path, headers)
    end
  end
  if #reqs == 0 then
    error("no requests in " .. file)
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(#reqs)
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end
