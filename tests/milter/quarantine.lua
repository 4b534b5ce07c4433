-- A double-extension executable and a lying link: held in the quarantine.
-- Held for every recipient: the MTA is told to DISCARD its copy (ims keeps
-- the only one).  Held for the local recipient of two: that recipient is
-- removed, the other one gets the message tagged.
dofile(os.getenv("IMS_MT_DIR") .. "/common.lua")
local h = {}
for _, x in ipairs(basic) do h[#h + 1] = x end
h[#h + 1] = {"MIME-Version", "1.0"}
h[#h + 1] = {"Content-Type", "multipart/mixed; boundary=\"b1\""}
local body = "--b1\r\nContent-Type: text/html\r\n\r\n" ..
	"<a href=\"http://evil.example.net/\">www.mybank.example.com</a>\r\n" ..
	"--b1\r\nContent-Type: application/octet-stream\r\n" ..
	"Content-Disposition: attachment; filename=\"invoice.pdf.exe\"\r\n" ..
	"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n--b1--\r\n"
local conn = send(h, body)
if mt.getreply(conn) ~= SMFIR_DISCARD then error("eom: not DISCARD") end
if mt.eom_check(conn, MT_HDRADD, "X-IMS-Scan-Id") then error("headers added to a discarded copy") end
mt.disconnect(conn)

conn = send(h, body, {qid = "QID0002", rcpts = {"<alice@example.test>", "<bob@elsewhere.example>"}})
if mt.getreply(conn) ~= SMFIR_ACCEPT then error("mixed: not ACCEPT") end
if not mt.eom_check(conn, MT_RCPTDELETE, "<alice@example.test>") then
	error("mixed: the held recipient was not removed")
end
if mt.eom_check(conn, MT_RCPTDELETE, "<bob@elsewhere.example>") then
	error("mixed: the other recipient was removed")
end
local status, id = own_headers(conn)
print("ID " .. id)
mt.disconnect(conn)
