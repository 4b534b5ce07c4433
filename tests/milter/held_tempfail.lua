-- A message to hold when it cannot be held (Redis down, quarantine full):
-- a temporary failure, never DISCARD (the MTA's copy is the only one then).
dofile(os.getenv("IMS_MT_DIR") .. "/common.lua")
local h = {}
-- its own Message-ID: the same message as quarantine.lua's would be a
-- retry of one already held (recorded once, DISCARD is then right)
for _, x in ipairs(basic) do
	if x[1] ~= "Message-ID" then h[#h + 1] = x end
end
h[#h + 1] = {"Message-ID", "<held-tempfail@example.org>"}
h[#h + 1] = {"MIME-Version", "1.0"}
h[#h + 1] = {"Content-Type", "multipart/mixed; boundary=\"b1\""}
local body = "--b1\r\nContent-Type: text/html\r\n\r\n" ..
	"<a href=\"http://evil.example.net/\">www.mybank.example.com</a>\r\n" ..
	"--b1\r\nContent-Type: application/octet-stream\r\n" ..
	"Content-Disposition: attachment; filename=\"invoice.pdf.exe\"\r\n" ..
	"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n--b1--\r\n"
local conn = send(h, body, {qid = "QID0009"})
local r = mt.getreply(conn)
if r == SMFIR_DISCARD then error("discarded a message that was not held") end
if r ~= SMFIR_REPLYCODE and r ~= SMFIR_TEMPFAIL then error("eom: expected tempfail, got " .. tostring(r)) end
mt.disconnect(conn)
print("tempfailed")
