-- Redis down or no model (the runner arranges it): 451 4.7.1, never accept.
dofile(os.getenv("IMS_MT_DIR") .. "/common.lua")
local conn = send(basic, "hello\r\n")
local r = mt.getreply(conn)
if r ~= SMFIR_REPLYCODE and r ~= SMFIR_TEMPFAIL then error("eom: expected tempfail, got " .. tostring(r)) end
mt.disconnect(conn)
print("tempfailed")
