-- wrk script of bench/load_test.py: random map viewports over Toulouse, non-2xx counted.
--
--   wrk -t2 -c16 -d60s -s bench/load_test.lua http://127.0.0.1:18090 -- list|clusters
--
-- Each request asks for another viewport (a 1280x800 px map centred anywhere in the city;
-- zoom 15 to 17 for the list, 11 to 17 for clusters), so no answer is served from one hot entry. At the end
-- one line "LOADTEST {json}" gives requests, duration, latency percentiles and errors.

local WEST, SOUTH, EAST, NORTH = 1.35, 43.55, 1.52, 43.67
local mode = "list"
local non2xx = 0
local statuses = {}
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  mode = args[1] or "list"
  math.randomseed(os.time() * 1000 + (id or 0))
end

-- The bbox a 1280x800 px Web Mercator map shows at zoom z around (lon, lat).
local function viewport(lon, lat, zoom)
  local world = 256 * 2 ^ zoom
  local x = (lon + 180) / 360 * world
  local rad = math.rad(lat)
  local y = (1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * world
  local function lon_of(px) return px / world * 360 - 180 end
  local function lat_of(py)
    local n = math.pi - 2 * math.pi * py / world
    return math.deg(math.atan((math.exp(n) - math.exp(-n)) / 2))
  end
  return lon_of(x - 640), lat_of(y + 400), lon_of(x + 640), lat_of(y - 400)
end

function request()
  -- Single incidents are shown from zoom 17 (the list of a street-level view: 15 to 17);
  -- clusters at any city-scale zoom (11: the whole city, to 17).
  local zoom = mode == "clusters" and math.random(11, 17) or math.random(15, 17)
  local lon = WEST + math.random() * (EAST - WEST)
  local lat = SOUTH + math.random() * (NORTH - SOUTH)
  local w, s, e, n = viewport(lon, lat, zoom)
  local bbox = string.format("%.6f,%.6f,%.6f,%.6f", w, s, e, n)
  if mode == "clusters" then
    return wrk.format("GET", "/api/incidents/clusters/?bbox=" .. bbox .. "&zoom=" .. zoom)
  end
  return wrk.format("GET", "/api/incidents/?bbox=" .. bbox)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad, codes = 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    for status, count in pairs(thread:get("statuses") or {}) do
      codes[tostring(status)] = (codes[tostring(status)] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(codes) do table.insert(parts, string.format('"%s": %d', status, count)) end
  local e = summary.errors
  io.write(string.format(
    'LOADTEST {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "non2xx": %d, "statuses": {%s}, "connect": %d, "read": %d, "write": %d, '
      .. '"timeout": %d, "status": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, bad, table.concat(parts, ", "), e.connect, e.read, e.write,
    e.timeout, e.status))
end
