-- SIGUSR2 (drain and stop) while a message is in flight: the message still
-- gets its answer.
-- The runner sets IMS_MILTER_PID; the signal is sent between EOH and body.
dofile(os.getenv("IMS_MT_DIR") .. "/common.lua")
local pid = os.getenv("IMS_MILTER_PID")
mt.set_timeout(30)
local conn = mt.connect(sock, 40, 0.25)
if conn == nil then error("connect") end
check("conninfo", mt.conninfo(conn, "client.example.org", "127.0.0.1"))
mt.macro(conn, SMFIC_MAIL, "i", "QIDTERM")
check("mailfrom", mt.mailfrom(conn, "<sender@example.org>"))
check("rcptto", mt.rcptto(conn, "<alice@example.test>"))
for _, h in ipairs(basic) do check("header", mt.header(conn, h[1], h[2])) end
check("eoh", mt.eoh(conn))
os.execute("kill -USR2 " .. pid)
os.execute("sleep 1")
check("body", mt.bodystring(conn, "still here\r\n"))
check("eom", mt.eom(conn))
if mt.getreply(conn) ~= SMFIR_ACCEPT then error("in-flight message not finished") end
mt.disconnect(conn)
print("in-flight message finished after SIGUSR2")
