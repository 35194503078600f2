-- POST /confirm/<token> for wrk, each token once. bench/confirm.py prepends a CONFIG table:
-- tokens (a file of confirmation tokens, one a line), pool (sessions and their CSRF tokens,
-- as in sign.lua), client_block (this run's IPv6 prefix) and threads (wrk's -t). Thread t
-- of T takes tokens t, t + T, t + 2T...

local tokens = {}
local pool = {}
local counter = 0
function init(args)
  local n = 0
  for line in io.lines(CONFIG.tokens) do
    n = n + 1
    if n % CONFIG.threads == thread_id % CONFIG.threads then
      table.insert(tokens, line)
    end
  end
  for line in io.lines(CONFIG.pool) do
    local cookie, csrf = string.match(line, "^([^\t]+)\t([^\t]+)\t")
    if cookie then table.insert(pool, {cookie = cookie, csrf = csrf}) end
  end
  assert(#tokens > 0 and #pool > 0, "no tokens or no sessions")
end

function request()
  counter = counter + 1
  if counter > #tokens then
    -- Out of tokens (the run was sized too small): stop, and let the requests that still
    -- go out answer 404, counted as refusals, never as confirmations.
    wrk.thread:stop()
    return wrk.format("POST", "/confirm/tokens-ran-out")
  end
  local form = pool[counter % #pool + 1]
  -- One client address per request: RATELIMIT_CONFIRM (per address) is on, never hit.
  local ip = string.format("%s::%x:%x:%x", CONFIG.client_block, thread_id,
    math.floor(counter / 65536), counter % 65536)
  return wrk.format("POST", "/confirm/" .. tokens[counter], {
    ["Cookie"] = "session=" .. form.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = ip,
  }, "csrf_token=" .. form.csrf)
end
