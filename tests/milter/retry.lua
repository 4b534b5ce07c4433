-- The MTA retries a message after a temporary failure that came after the
-- store: the same message twice with the same queue id.  Both get our
-- headers, with the same X-IMS-Scan-Id (the runner checks that Redis holds
-- one scan log and counted it once).
dofile(os.getenv("IMS_MT_DIR") .. "/common.lua")
local h = {}
for _, x in ipairs(basic) do
	if x[1] ~= "Message-ID" then h[#h + 1] = x end
end
h[#h + 1] = {"Message-ID", "<retry-1@example.org>"}
for i = 1, 2 do
	local conn = send(h, "Retried after a 451.\r\n", {qid = "QIDRETRY1"})
	if mt.getreply(conn) ~= SMFIR_ACCEPT then error("eom " .. i .. ": not ACCEPT") end
	local _, id = own_headers(conn)
	print("ID " .. id)
	mt.disconnect(conn)
end
