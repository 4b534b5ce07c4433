-- A MAIL FROM whose quoted local part holds "; dkim=pass ...": the
-- Authentication-Results header gets no result of the sender's making.
dofile(os.getenv("IMS_MT_DIR") .. "/common.lua")
local conn = send(basic, "See you at noon.\r\n",
	{from = '<"x; dkim=pass header.d=bank.example"@evil.example>'})
if mt.getreply(conn) ~= SMFIR_ACCEPT then error("eom: not ACCEPT") end
local ar = mt.getheader(conn, "Authentication-Results", 0)
if ar == nil then error("Authentication-Results not inserted") end
mt.echo("Authentication-Results:" .. ar)
if string.find(ar, "dkim=pass", 1, true) or string.find(ar, "bank.example", 1, true) then
	error("a result of the sender's making: " .. ar)
end
if not string.find(ar, "smtp.mailfrom=evil.example", 1, true) then error("mailfrom: " .. ar) end
mt.disconnect(conn)
