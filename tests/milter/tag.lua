-- Phishing links: score over [actions] tag, below quarantine: accepted and tagged.
dofile(os.getenv("IMS_MT_DIR") .. "/common.lua")
local h = {}
for _, x in ipairs(basic) do h[#h + 1] = x end
h[#h + 1] = {"Content-Type", "text/html; charset=utf-8"}
local conn = send(h, "<html><body><a href=\"http://evil.example.net/login\">www.paypal.com</a>\r\n" ..
	"<a href=\"http://192.0.2.7/x\">here</a></body></html>\r\n")
if mt.getreply(conn) ~= SMFIR_ACCEPT then error("eom: not ACCEPT") end
local status, id = own_headers(conn)
if not string.find(status, "^ ?Yes, score=") then error("status " .. status) end
if not string.find(status, "PHISH_URL_TEXT_MISMATCH") then error("no phishing symbol: " .. status) end
if mt.eom_check(conn, MT_QUARANTINE) then error("quarantined, expected tag") end
print("ID " .. id)
mt.disconnect(conn)
