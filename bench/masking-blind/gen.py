#!/usr/bin/env python3
"""A labelled masking corpus made from a seed, for a blind check through the gateway (run.sh)."""
import random, string, base64, json, hashlib, uuid, sys
R = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 16016)

def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(R.randint(0, 9))
    s = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9: d -= 9
        s += d
    digits.append((10 - s % 10) % 10)
    return ''.join(map(str, digits))

def luhn_ok(n):
    s = 0
    for i, c in enumerate(reversed(n)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9: d -= 9
        s += d
    return s % 10 == 0

def group(num, sizes, sep):
    out, i = [], 0
    for g in sizes:
        out.append(num[i:i+g]); i += g
    return sep.join(out)

FIRST = ["maria","jose","wei","fatima","olu","sven","anika","li","tomás","noor","kenji","aisha","pieter","chloe","dmitri","priya","mateo","zoe"]
LAST = ["garcia","nguyen","okafor","schmidt","rossi","kowalski","tanaka","haddad","silva","murphy","johansson","patel","dubois","kim"]
DOMS = ["gmail.com","outlook.com","acme.io","mail.example.org","corp.example.co.uk","uni-heidelberg.de","yahoo.co.jp","proton.me","sub.dept.example.com"]

def email():
    f, l = R.choice(FIRST), R.choice(LAST)
    local = R.choice([f"{f}.{l}", f"{f[0]}{l}", f"{f}_{l}{R.randint(1,99)}", f"{f}+{R.choice(['news','billing','x'])}", f"{l}.{f}", f"{f.upper()}.{l.capitalize()}"])
    local = local.replace('á','a')
    return f"{local}@{R.choice(DOMS)}"

def phone():
    k = R.randint(0, 11)
    if k == 0: return f"+1 ({R.randint(201,989)}) {R.randint(200,999)}-{R.randint(0,9999):04d}"
    if k == 1: return f"{R.randint(201,989)}-{R.randint(200,999)}-{R.randint(0,9999):04d}"
    if k == 2: return f"+44 20 {R.randint(7000,8999)} {R.randint(0,9999):04d}"
    if k == 3: return f"+44 7{R.randint(100,999)} {R.randint(100000,999999)}"
    if k == 4: return f"+49 30 {R.randint(1000000,99999999)}"
    if k == 5: return f"+33 6 {R.randint(10,99)} {R.randint(10,99)} {R.randint(10,99)} {R.randint(10,99)}"
    if k == 6: return f"+91 {R.randint(70000,99999)} {R.randint(10000,99999)}"
    if k == 7: return f"+81 3-{R.randint(1000,9999)}-{R.randint(1000,9999)}"
    if k == 8: return f"+55 11 9{R.randint(1000,9999)}-{R.randint(1000,9999)}"
    if k == 9: return f"+61 4{R.randint(10,99)} {R.randint(100,999)} {R.randint(100,999)}"
    if k == 10: return f"+1{R.randint(201,989)}{R.randint(200,999)}{R.randint(0,9999):04d}"
    return f"({R.randint(201,989)}) {R.randint(200,999)} {R.randint(0,9999):04d}"

def card():
    k = R.randint(0, 6)
    if k == 0: n = luhn_complete("4", 16); sizes = [4,4,4,4]
    elif k == 1: n = luhn_complete(str(R.randint(51,55)), 16); sizes = [4,4,4,4]
    elif k == 2: n = luhn_complete(str(R.randint(2221,2720)), 16); sizes = [4,4,4,4]
    elif k == 3: n = luhn_complete(R.choice(["34","37"]), 15); sizes = [4,6,5]
    elif k == 4: n = luhn_complete("6011", 16); sizes = [4,4,4,4]
    elif k == 5: n = luhn_complete(str(R.randint(3528,3589)), 16); sizes = [4,4,4,4]
    else: n = luhn_complete(R.choice(["300","305","36"]), 14); sizes = [4,6,4]
    return group(n, sizes, R.choice([" ", "-", "", " "]))

IBAN_SPECS = {"DE": 18, "GB": 18, "FR": 23, "ES": 20, "IT": 23, "NL": 14, "BE": 12, "CH": 17, "AT": 16, "PL": 24, "SE": 20, "IE": 18}
def iban():
    cc = R.choice(list(IBAN_SPECS))
    n = IBAN_SPECS[cc]
    if cc in ("GB", "NL", "IE"):
        bban = ''.join(R.choice(string.ascii_uppercase) for _ in range(4)) + ''.join(R.choice(string.digits) for _ in range(n - 4))
    elif cc == "IT":
        bban = R.choice(string.ascii_uppercase) + ''.join(R.choice(string.digits) for _ in range(n - 1))
    else:
        bban = ''.join(R.choice(string.digits) for _ in range(n))
    def num(s): return ''.join(str(int(c, 36)) for c in s)
    chk = 98 - int(num(bban + cc + "00")) % 97
    ib = f"{cc}{chk:02d}{bban}"
    if R.random() < 0.5:
        ib = ' '.join(ib[i:i+4] for i in range(0, len(ib), 4))
    return ib

def ssn():
    while True:
        a = R.randint(1, 899)
        if a != 666: break
    g, s = R.randint(1, 99), R.randint(1, 9999)
    return R.choice([f"{a:03d}-{g:02d}-{s:04d}", f"{a:03d} {g:02d} {s:04d}"])

def ipv4():
    return f"{R.randint(11,223)}.{R.randint(0,255)}.{R.randint(0,255)}.{R.randint(1,254)}"

def ipv6():
    k = R.randint(0, 3)
    hx = lambda: f"{R.randint(0,65535):x}"
    if k == 0: return ':'.join(hx() for _ in range(8))
    if k == 1: return f"2001:db8:{hx()}::{hx()}"
    if k == 2: return f"fe80::{hx()}:{hx()}:{hx()}:{hx()}"
    return f"2a02:{hx()}:{hx()}:{hx()}::1"

def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
def jwt():
    h = b64u(json.dumps({"alg": R.choice(["HS256","RS256","ES256"]), "typ": "JWT"}).encode())
    p = b64u(json.dumps({"sub": str(R.randint(1, 10**6)), "name": R.choice(FIRST), "iat": R.randint(1.6e9, 1.8e9)}).encode())
    s = b64u(bytes(R.getrandbits(8) for _ in range(R.choice([32, 64, 256]))))
    return f"{h}.{p}.{s}"

def rnd(alpha, n): return ''.join(R.choice(alpha) for _ in range(n))
AL = string.ascii_letters + string.digits
def secret():
    k = R.randint(0, 13)
    if k == 0: return "AKIA" + rnd(string.ascii_uppercase + "234567", 16)
    if k == 1: return "aws_secret_access_key = " + rnd(AL + "+/", 40)
    if k == 2: return "ghp_" + rnd(AL, 36)
    if k == 3: return "github_pat_" + rnd(AL, 22) + "_" + rnd(AL, 59)
    if k == 4: return "glpat-" + rnd(AL + "-_", 20)
    if k == 5: return "xoxb-" + f"{R.randint(10**10,10**11)}-{R.randint(10**12,10**13)}-" + rnd(AL, 24)
    if k == 6: return "sk_live_" + rnd(AL, 24)
    if k == 7: return f"DefaultEndpointsProtocol=https;AccountName=acct{R.randint(1,999)};AccountKey=" + base64.b64encode(bytes(R.getrandbits(8) for _ in range(64))).decode() + ";EndpointSuffix=core.windows.net"
    if k == 8: return f"postgres://app_user:{rnd(AL, 14)}@db-{R.randint(1,9)}.internal:5432/prod"
    if k == 9: return f"password={rnd(AL + '!@#%', 12)}"
    if k == 10: return f"DB_PASSWORD: \"{rnd(AL, 16)}\""
    if k == 11: return "https://hooks.slack.com/services/T" + rnd(string.ascii_uppercase + string.digits, 8) + "/B" + rnd(string.ascii_uppercase + string.digits, 8) + "/" + rnd(AL, 24)
    if k == 12: return "-----BEGIN RSA PRIVATE KEY-----\n" + base64.b64encode(bytes(R.getrandbits(8) for _ in range(120))).decode() + "\n-----END RSA PRIVATE KEY-----"
    return f"mysql://root:{rnd(AL, 10)}@10.0.{R.randint(0,255)}.{R.randint(1,254)}:3306/app"

TEMPL = [
    "{v}",
    "Customer said: reach me at {v} after 5pm",
    "note: {v} (verified)",
    "Updated contact -> {v}; ticket #{n}",
    "{{\"contact\": \"{v}\", \"order\": {n}}}",
    "pls use {v}, thx",
]
GENS = {"email": email, "phone": phone, "card": card, "iban": iban, "ssn": ssn, "ipv4": ipv4, "ipv6": ipv6, "jwt": jwt, "secret": secret}

def negative():
    k = R.randint(0, 15)
    if k == 0: return str(uuid.UUID(int=R.getrandbits(128)))
    if k == 1: return hashlib.sha1(str(R.random()).encode()).hexdigest()
    if k == 2: return f"ORD-{R.randint(2019,2026)}-{R.randint(0,999999):06d}"
    if k == 3: return f"2026-{R.randint(1,12):02d}-{R.randint(1,28):02d}T{R.randint(0,23):02d}:{R.randint(0,59):02d}:{R.randint(0,59):02d}Z"
    if k == 4: return f"v{R.randint(0,12)}.{R.randint(0,40)}.{R.randint(0,200)}"
    if k == 5: return f"build #{R.randint(1000,99999)} finished in {R.randint(1,900)}s"
    if k == 6:
        while True:
            n = ''.join(R.choice(string.digits) for _ in range(16))
            if not luhn_ok(n): return group(n, [4,4,4,4], R.choice([" ", "-"]))
    if k == 7: return f"{R.choice(['000','666','9'+str(R.randint(10,99))])}-{R.randint(10,99)}-{R.randint(1000,9999)}"
    if k == 8: return f"shipped {R.randint(2,40)} boxes, {R.randint(1,9)}.{R.randint(0,9)} kg each, total ${R.randint(10,9999)}.{R.randint(0,99):02d}"
    if k == 9: return f"ISBN 978-{R.randint(0,9)}-{R.randint(100,999)}-{R.randint(10000,99999)}-{R.randint(0,9)}"
    if k == 10: return f"tracking 1Z{rnd(string.ascii_uppercase+string.digits, 16)}"
    if k == 11: return f"sha256:{hashlib.sha256(str(R.random()).encode()).hexdigest()}"
    if k == 12: return f"room {R.randint(100,999)}, floor {R.randint(1,30)}, badge {R.randint(10000,99999)}"
    if k == 13: return f"invoice INV{R.randint(10**7, 10**8)} due {R.randint(1,28)}/{R.randint(1,12)}/2026"
    if k == 14: return f"the meeting moved from 10:30 to 14:15 in Q{R.randint(1,4)} {R.randint(2020,2026)}"
    return f"SKU {rnd(string.ascii_uppercase, 3)}-{R.randint(1000,9999)}-{rnd(string.ascii_uppercase, 2)}"

rows = []
for det, g in GENS.items():
    for i in range(120):
        v = g()
        t = R.choice(TEMPL)
        rows.append(("pos", det, v, t.format(v=v, n=R.randint(1000, 99999))))
for i in range(1200):
    v = negative()
    rows.append(("neg", "lookalike", v, v if R.random() < 0.6 else f"ref {v} ok"))
w = sys.stdout
for label, det, v, text in rows:
    w.write(json.dumps({"label": label, "det": det, "value": v, "text": text}) + "\n")
