-- POST /petitions/<slug>/sign as a browser sends it, for wrk. bench/intake.py prepends a
-- CONFIG table: pool (a file of "cookie<TAB>csrf_token<TAB>form_started" lines, each a
-- session and its form as the petition page handed them out), path, run (a tag that makes
-- this run's emails unique), client_block (four groups of an IPv6 prefix, this run's own
-- client addresses), rate (signatures a second over all threads; 0: as fast as the server
-- answers) and threads (wrk's -t).

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local clock = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(clock, nil)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_usec) / 1000
end

-- Supporters' addresses: a few big providers and a long tail, as on a real petition
-- (the share of each domain drives the per-domain flood alert's work).
local DOMAINS = {"gmail.com", "gmail.com", "gmail.com", "gmail.com", "yahoo.com",
  "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "proton.me",
  "comcast.net", "btinternet.com", "gmx.de"}
local FIRST = {"Jane", "John", "Maria", "Wei", "Aisha", "Oliver", "Sofia", "Liam",
  "Chloé", "José", "Fatima", "Noah", "Emma", "Kwame", "Priya", "Lucas"}
local LAST = {"Doe", "Smith", "García", "Chen", "Khan", "Brown", "Rossi", "Müller",
  "Okafor", "Patel", "Nguyen", "O'Brien", "Kowalski", "Silva", "Jones", "Dubois"}
local PLACES = {{"US", "20004"}, {"US", "10027"}, {"US", "94110"}, {"US", "60614-1234"},
  {"US", "30303"}, {"US", "98101"}, {"GB", "SW1A 1AA"}, {"CA", "K1A 0B1"},
  {"US", "73301"}, {"DE", "10115"}}
local COMMENTS = {"", "", "", "", "", "", "Please act now.",
  "This matters to my family and to everyone on our street.", "", ""}

local function encode(text)
  return (string.gsub(text, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local pool = {}
local counter = 0
local interval_ms = 0
local next_at = 0
function init(args)
  for line in io.lines(CONFIG.pool) do
    local cookie, csrf, started = string.match(line, "^([^\t]+)\t([^\t]+)\t([^\t]+)$")
    if cookie then
      table.insert(pool, {cookie = cookie, csrf = encode(csrf), started = encode(started)})
    end
  end
  assert(#pool > 0, "empty form pool " .. CONFIG.pool)
  if CONFIG.rate > 0 then
    interval_ms = 1000 * CONFIG.threads / CONFIG.rate
  end
end

function delay()
  if interval_ms == 0 then return 0 end
  -- One schedule per thread shared by its connections: a steady rate, whatever the
  -- latency (as long as there are enough connections to keep up).
  local now = now_ms()
  if next_at == 0 then next_at = now end
  next_at = next_at + interval_ms
  return math.max(0, next_at - now)
end

function request()
  counter = counter + 1
  local n = counter
  local form = pool[(n * 7 + thread_id) % #pool + 1]
  local place = PLACES[n % #PLACES + 1]
  local first, last = FIRST[n % #FIRST + 1], LAST[(n * 3 + thread_id) % #LAST + 1]
  local email = string.format("%s.%s.t%d.%d@%s", string.lower(first):gsub("[^%a]", ""),
    CONFIG.run, thread_id, n, DOMAINS[n % #DOMAINS + 1])
  -- One address per request, unique in the run: per-IP limits are on, and never hit.
  local ip = string.format("%s::%x:%x:%x", CONFIG.client_block, thread_id,
    math.floor(n / 65536), n % 65536)
  local fields = {
    "csrf_token=" .. form.csrf,
    "form_started=" .. form.started,
    "website=",
    "name=" .. encode(first .. " " .. last),
    "email=" .. encode(email),
    "postcode=" .. encode(place[2]),
    "country=" .. place[1],
    "comment=" .. encode(COMMENTS[n % #COMMENTS + 1]),
  }
  -- The optional boxes as supporters tick them: most show their name, half want
  -- updates, one in five the newsletter.
  if n % 5 ~= 0 then table.insert(fields, "show_name_publicly=y") end
  if n % 2 == 0 then table.insert(fields, "email_updates=y") end
  if n % 5 == 1 then table.insert(fields, "subscribe_newsletter=y") end
  return wrk.format("POST", CONFIG.path, {
    ["Cookie"] = "session=" .. form.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = ip,
  }, table.concat(fields, "&"))
end
