-- A plain message: accepted, our headers added, forged ones removed.
dofile(os.getenv("IMS_MT_DIR") .. "/common.lua")
local h = {}
for _, x in ipairs(basic) do h[#h + 1] = x end
h[#h + 1] = {"X-Spam-Status", "No, score=-100 forged"}
h[#h + 1] = {"X-Spam-Flag", "NO"}
local conn = send(h, "See you at noon.\r\n")
if mt.getreply(conn) ~= SMFIR_ACCEPT then error("eom: not ACCEPT") end
local status, id = own_headers(conn)
if not string.find(status, "^ ?No, score=") then error("status " .. status) end
if not mt.eom_check(conn, MT_HDRDELETE, "X-Spam-Status") then error("forged X-Spam-Status kept") end
if not mt.eom_check(conn, MT_HDRDELETE, "X-Spam-Flag") then error("forged X-Spam-Flag kept") end
print("ID " .. id)
mt.disconnect(conn)
