-- Bad input: several From (rejected by default), 8-bit garbage, no From,
-- a folded monster header, a body over the size limit.  No crash, an answer each time.
dofile(os.getenv("IMS_MT_DIR") .. "/common.lua")

-- several From
local conn = send({{"From", "a@example.org"}, {"From", "b@example.net"}, {"Subject", "x"}}, "hi\r\n")
if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("several From: not rejected") end
mt.disconnect(conn)

-- no From, 8-bit garbage in header and body
local garbage = ""
for i = 1, 300 do garbage = garbage .. string.char(128 + (i * 37) % 127) end
conn = send({{"Subject", garbage}, {"X-Junk", garbage}}, garbage .. "\r\n" .. garbage .. "\r\n")
local r = mt.getreply(conn)
if r ~= SMFIR_ACCEPT and r ~= SMFIR_REPLYCODE then error("garbage: reply " .. tostring(r)) end
if r == SMFIR_ACCEPT then
	local status = mt.getheader(conn, "X-Spam-Status", 0)
	if not string.find(status, "MISSING_FROM") then error("no MISSING_FROM: " .. status) end
end
mt.disconnect(conn)

-- a header over [milter] max_header_size (set to 512 bytes by the runner)
local big = string.rep("word ", 160) -- miltertest itself overflows its stack past ~1k
conn = send({{"From", "a@example.org"}, {"Subject", big}}, "hi\r\n")
if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("huge header: not rejected") end
mt.disconnect(conn)

-- a body over [milter] max_message_size (set to 64k by the runner)
conn = mt.connect(sock, 40, 0.25)
check("conninfo", mt.conninfo(conn, "client.example.org", "127.0.0.1"))
check("mailfrom", mt.mailfrom(conn, "<a@example.org>"))
check("rcptto", mt.rcptto(conn, "<alice@example.test>"))
check("header", mt.header(conn, "From", "a@example.org"))
check("eoh", mt.eoh(conn))
local chunk = string.rep("x", 8000) .. "\r\n"
for i = 1, 20 do
	check("body", mt.bodystring(conn, chunk))
end
-- no replies to body chunks (SMFIP_NR_BODY): the answer comes at EOM
check("eom", mt.eom(conn))
if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("oversize body not rejected") end
mt.disconnect(conn)
print("malformed ok")
