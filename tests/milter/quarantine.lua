-- A double-extension executable and a lying link: held in quarantine.
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
if mt.getreply(conn) ~= SMFIR_ACCEPT then error("eom: not ACCEPT") end
local status, id = own_headers(conn)
if not mt.eom_check(conn, MT_QUARANTINE) then error("not quarantined: " .. status) end
print("ID " .. id)
mt.disconnect(conn)
