#!/usr/bin/env python3
"""A test PCS / PCCS for `cocoon-launch collateral` (tests/collateral/collateral_test.sh).

  pcs.py split BUNDLE DIR [--as-fmspc HEX] [--hex-root-crl]
      write a collateral bundle (the dcap-qvl JSON shape) as the Intel PCS API v4 would
      serve it: DIR/tcb-<FMSPC>.json ({"tcbInfo":...,"signature":"..."}) with its
      TCB-Info-Issuer-Chain header in tcb-<FMSPC>.chain (URL-encoded PEM), qe.json /
      qe.chain, pckcrl.der / pckcrl.chain, rootcrl.der (hex text with --hex-root-crl).
      --as-fmspc serves the TCB info under another FMSPC's URL.
  pcs.py serve DIR PORTFILE
      serve DIR on 127.0.0.1 at a port the kernel picks (written to PORTFILE), reading the
      files on every request (the test swaps them), 404 for anything missing.
"""
import http.server
import json
import os
import sys
import urllib.parse


def split(bundle, out, as_fmspc=None, hex_root=False):
    b = json.load(open(bundle))
    fmspc = (as_fmspc or json.loads(b["tcb_info"])["fmspc"]).upper()
    os.makedirs(out, exist_ok=True)

    def put(name, data):
        tmp = os.path.join(out, "." + name)
        with open(tmp, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.rename(tmp, os.path.join(out, name))

    q = lambda pem: urllib.parse.quote(pem, safe="")
    put("tcb-%s.json" % fmspc, '{"tcbInfo":%s,"signature":"%s"}' % (b["tcb_info"], b["tcb_info_signature"]))
    put("tcb-%s.chain" % fmspc, q(b["tcb_info_issuer_chain"]))
    put("qe.json", '{"enclaveIdentity":%s,"signature":"%s"}' % (b["qe_identity"], b["qe_identity_signature"]))
    put("qe.chain", q(b["qe_identity_issuer_chain"]))
    put("pckcrl.der", bytes.fromhex(b["pck_crl"]))
    put("pckcrl.chain", q(b["pck_crl_issuer_chain"]))
    put("rootcrl.der", b["root_ca_crl"] if hex_root else bytes.fromhex(b["root_ca_crl"]))


class Handler(http.server.BaseHTTPRequestHandler):
    root = "."

    def log_message(self, fmt, *args):
        sys.stderr.write("pcs: " + (fmt % args) + "\n")

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        qs = urllib.parse.parse_qs(u.query)
        files = {
            "/tdx/certification/v4/qe/identity": ("qe.json", "qe.chain", "SGX-Enclave-Identity-Issuer-Chain"),
            "/sgx/certification/v4/pckcrl": ("pckcrl.der", "pckcrl.chain", "SGX-PCK-CRL-Issuer-Chain"),
            "/IntelSGXRootCA.der": ("rootcrl.der", None, None),
        }
        if u.path == "/tdx/certification/v4/tcb" and "fmspc" in qs:
            f = qs["fmspc"][0].upper()
            entry = ("tcb-%s.json" % f, "tcb-%s.chain" % f, "TCB-Info-Issuer-Chain")
        elif u.path == "/sgx/certification/v4/pckcrl" and qs.get("ca") != ["platform"]:
            entry = None
        else:
            entry = files.get(u.path)
        try:
            body = open(os.path.join(self.root, entry[0]), "rb").read()
            chain = open(os.path.join(self.root, entry[1])).read() if entry[1] else None
        except (TypeError, OSError):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if chain is not None:
            self.send_header(entry[2], chain)
        self.end_headers()
        self.wfile.write(body)


def main():
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "split":
        as_fmspc = a[a.index("--as-fmspc") + 1] if "--as-fmspc" in a else None
        split(a[1], a[2], as_fmspc, "--hex-root-crl" in a)
    elif len(a) == 3 and a[0] == "serve":
        Handler.root = a[1]
        srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        tmp = a[2] + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, a[2])
        srv.serve_forever()
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
