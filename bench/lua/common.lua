-- What sign.lua and confirm.lua share, prepended to each by bench/signing_stack.py's
-- lua_script(): each thread's number, and the tally of answers. CONFIG.success_status is
-- the status of a success, CONFIG.success_name its name in the report.

succeeded = 0
refused = 0
last_refusal = 0
thread_id = 1  -- set for each thread by setup()

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function response(status, headers, body)
  if status == CONFIG.success_status then
    succeeded = succeeded + 1
  else
    refused = refused + 1
    last_refusal = status
  end
end

function report_extra()
  local total_succeeded, total_refused, status = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_succeeded = total_succeeded + thread:get("succeeded")
    total_refused = total_refused + thread:get("refused")
    status = math.max(status, thread:get("last_refusal"))
  end
  return string.format('{"%s": %d, "refused": %d, "last_refusal_status": %d}',
    CONFIG.success_name, total_succeeded, total_refused, status)
end
