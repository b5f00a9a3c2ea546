#!/usr/bin/env python3
"""Opens N idle PostgreSQL connections over TLS (startup + cleartext password auth), holds them
for HOLD seconds, then closes them. Standard library only, so the benchmark needs no driver.
Usage: idle_connections.py HOST PORT DBNAME USER PASSWORD N HOLD"""
import socket, ssl, struct, sys, time

host, port, db, user, password, n, hold = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), float(sys.argv[7])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE

def recv_msg(s):
    hdr = b""
    while len(hdr) < 5:
        chunk = s.recv(5 - len(hdr))
        if not chunk: raise EOFError("closed")
        hdr += chunk
    t, ln = hdr[0:1], struct.unpack("!I", hdr[1:5])[0]
    body = b""
    while len(body) < ln - 4:
        body += s.recv(ln - 4 - len(body))
    return t, body

def connect():
    raw = socket.create_connection((host, port))
    raw.sendall(struct.pack("!II", 8, 80877103))
    if raw.recv(1) != b"S": raise RuntimeError("no TLS")
    s = ctx.wrap_socket(raw)
    params = b"user\0" + user.encode() + b"\0database\0" + db.encode() + b"\0\0"
    s.sendall(struct.pack("!II", 8 + len(params), 196608) + params)
    while True:
        t, body = recv_msg(s)
        if t == b"R" and struct.unpack("!I", body[:4])[0] == 3:
            pw = password.encode() + b"\0"
            s.sendall(b"p" + struct.pack("!I", 4 + len(pw)) + pw)
        elif t == b"E":
            raise RuntimeError(body)
        elif t == b"Z":
            return s

conns = []
for i in range(n):
    conns.append(connect())
print(f"  opened {len(conns)} idle connections", flush=True)
time.sleep(hold)
for s in conns:
    try: s.sendall(b"X\0\0\0\4"); s.close()
    except OSError: pass
