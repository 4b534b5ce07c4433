-- Shared steps for the ims-milter miltertest scripts (loaded with dofile).
-- The runner (run-miltertest.py) sets IMS_MILTER_SOCKET.

sock = os.getenv("IMS_MILTER_SOCKET")
if sock == nil then error("IMS_MILTER_SOCKET not set") end

function check(what, r)
	if r ~= nil then error(what .. ": " .. tostring(r)) end
end

function expect_continue(conn, what)
	if mt.getreply(conn) ~= SMFIR_CONTINUE then error(what .. ": not CONTINUE") end
end

-- Connects and sends one message; returns the connection after EOM.
-- headers: list of {name, value}; body: string; opts.ip, opts.auth, opts.rcpts
function send(headers, body, opts)
	opts = opts or {}
	mt.set_timeout(30)
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then error("mt.connect(" .. sock .. ") failed") end
	check("conninfo", mt.conninfo(conn, "client.example.org", opts.ip or "127.0.0.1"))
	expect_continue(conn, "conninfo")
	check("helo", mt.helo(conn, "client.example.org"))
	expect_continue(conn, "helo")
	-- miltertest has no SMFIC_BODYEOB: the queue id goes with MAIL FROM
	if opts.auth then
		mt.macro(conn, SMFIC_MAIL, "{auth_authen}", opts.auth, "i", opts.qid or "QID0001")
	else
		mt.macro(conn, SMFIC_MAIL, "i", opts.qid or "QID0001")
	end
	check("mailfrom", mt.mailfrom(conn, opts.from or "<sender@example.org>"))
	expect_continue(conn, "mailfrom")
	for _, r in ipairs(opts.rcpts or {"<alice@example.test>"}) do
		check("rcptto", mt.rcptto(conn, r))
		expect_continue(conn, "rcptto")
	end
	-- no mt.data(): ims-milter negotiates SMFIP_NODATA (and no replies
	-- for connect, HELO, RCPT, headers, EOH and body: miltertest then
	-- reports CONTINUE without waiting)
	for _, h in ipairs(headers) do
		check("header " .. h[1], mt.header(conn, h[1], h[2]))
		expect_continue(conn, "header " .. h[1])
	end
	check("eoh", mt.eoh(conn))
	expect_continue(conn, "eoh")
	if body ~= "" then
		check("body", mt.bodystring(conn, body))
	end
	check("eom", mt.eom(conn))
	return conn
end

-- The X-Spam-Status and X-IMS-Scan-Id the filter added (fails when absent).
-- Values carry their own leading space: the filter negotiates SMFIP_HDR_LEADSPC.
function own_headers(conn)
	local status = mt.getheader(conn, "X-Spam-Status", 0)
	local id = mt.getheader(conn, "X-IMS-Scan-Id", 0)
	if status == nil or id == nil then error("X-Spam-Status/X-IMS-Scan-Id not added") end
	if not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results") then
		error("Authentication-Results not inserted")
	end
	if not mt.eom_check(conn, MT_HDRADD, "X-Spam-Flag") then error("X-Spam-Flag missing") end
	if not mt.eom_check(conn, MT_HDRADD, "X-Spam-Score") then error("X-Spam-Score missing") end
	mt.echo("scan id " .. id .. " status " .. status)
	return status, id
end

basic = {
	{"From", "Carol <carol@example.org>"},
	{"To", "alice@example.test"},
	{"Subject", "lunch"},
	{"Date", "Mon, 23 Nov 2026 06:00:00 +0000"},
	{"Message-ID", "<m1@example.org>"},
}
