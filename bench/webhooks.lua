-- POST /webhooks/stripe, one signed event per request, each sent once, in
-- file order: EVENTS_FILE holds lines "<Stripe-Signature> TAB <event JSON>"
-- (bench/stripe-events.cjs). With WRK_THREADS threads, thread i sends lines
-- i, i + WRK_THREADS, ...; a thread whose lines run out stops (wrk then
-- divides by the whole duration: scripts/bench takes the rate from the
-- database instead, and says the events ran out).
--
-- Every answer is checked: its status, its `x-db-statements` (the SQL
-- statements the worker ran for it) and its outcome (`mark_paid`: the event
-- paid its order; `duplicate`: seen before, which a bench of new events
-- must not be made of). At the end it prints one line for scripts/bench:
--   WEBHOOKS answers=<n> ok=<200s> non200=<n> applied=<mark_paid> duplicate=<n>
--            other=<other outcomes> statements_sum=<n> statements_max=<n>
--            over3=<answers with more than 3> unreported=<answers without the header>
--            sent=<requests made> events=<lines in the file>
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local stride = tonumber(os.getenv("WRK_THREADS") or "2")
  events = {}
  total_events = 0
  for line in io.lines(os.getenv("EVENTS_FILE")) do
    total_events = total_events + 1
    if (total_events - id) % stride == 0 then
      local tab = line:find("\t", 1, true)
      events[#events + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
    end
  end
  nxt = 1
  sent, answers, ok, non200, applied, duplicate, other = 0, 0, 0, 0, 0, 0, 0
  statements_sum, statements_max, over3, unreported = 0, 0, 0, 0
end

request = function()
  local e = events[nxt]
  if e == nil then
    -- Out of events: stop this thread. wrk still wants a request for the
    -- connection that asked; it is never sent (the loop stops first).
    -- It may still go out: its answer is not counted here (wrk counts it).
    stopping = true
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  nxt = nxt + 1
  sent = sent + 1
  return wrk.format("POST", "/webhooks/stripe",
    { ["Content-Type"] = "application/json; charset=utf-8",
      ["Stripe-Signature"] = e[1],
      ["User-Agent"] = "Stripe/1.0 (+https://stripe.com/docs/webhooks)" },
    e[2])
end

response = function(status, headers, body)
  if stopping and not body:find('"event_id"', 1, true) then return end
  answers = answers + 1
  if status == 200 then ok = ok + 1 else non200 = non200 + 1 end
  local statements
  for name, value in pairs(headers) do
    if name:lower() == "x-db-statements" then statements = tonumber(value) end
  end
  if statements == nil then
    unreported = unreported + 1
  else
    statements_sum = statements_sum + statements
    if statements > statements_max then statements_max = statements end
    if statements > 3 then over3 = over3 + 1 end
  end
  if body:find('"outcome":"mark_paid"', 1, true) then
    applied = applied + 1
  elseif body:find('"outcome":"duplicate"', 1, true) then
    duplicate = duplicate + 1
  else
    other = other + 1
    if other <= 3 then io.stderr:write("webhook answer " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  local keys = { "answers", "ok", "non200", "applied", "duplicate", "other",
                 "statements_sum", "statements_max", "over3", "unreported", "sent" }
  local totals = {}
  for _, k in ipairs(keys) do totals[k] = 0 end
  local events = 0
  for _, t in ipairs(threads) do
    for _, k in ipairs(keys) do
      local v = t:get(k) or 0
      if k == "statements_max" then
        if v > totals[k] then totals[k] = v end
      else
        totals[k] = totals[k] + v
      end
    end
    events = t:get("total_events") or events
  end
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. totals[k] end
  print("WEBHOOKS " .. table.concat(parts, " ") .. " events=" .. events)
end
