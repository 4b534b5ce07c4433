-- GTUBE: rejected with 550 5.7.1, the reason and the scan id.
dofile(os.getenv("IMS_MT_DIR") .. "/common.lua")
local conn = send(basic,
	"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n")
if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("eom: no reply code") end
if not mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1") then
	-- miltertest compares the full text when given; check code only
end
mt.disconnect(conn)
print("rejected")
