-- wrk script for the API benchmarks: POSTs the JSON body in the file named by
-- WRK_BODY_FILE (with a bearer token when WRK_TOKEN is set).
local file = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("WRK_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
