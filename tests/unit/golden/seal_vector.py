# Independent vector for the cocoon-seal decryption (python3 cryptography, not OpenSSL EVP from C).
import hashlib
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
dc = int.from_bytes(hashlib.sha256(b"cocoon-seal test client").digest(), "big")
de = int.from_bytes(hashlib.sha256(b"cocoon-seal test enclave").digest(), "big")
key = hashlib.sha256(b"cocoon-seal test key").digest()
c = ec.derive_private_key(dc, ec.SECP256R1()); e = ec.derive_private_key(de, ec.SECP256R1())
def le64(k):
    n = k.public_key().public_numbers()
    return n.x.to_bytes(32, "big")[::-1] + n.y.to_bytes(32, "big")[::-1]
x = e.exchange(ec.ECDH(), c.public_key())  # big-endian x
h = hashlib.sha256(x[::-1]).digest()
enc = Cipher(algorithms.AES(h[:16]), modes.CTR(h[16:])).encryptor()
ct = enc.update(key) + enc.finalize()
print("client_priv", dc.to_bytes(32, "big").hex())
print("client_pub64", le64(c).hex())
print("secret", (le64(e) + ct).hex())
print("key", key.hex())
