#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A minimal iSCSI target that exists ONLY to inject faults that tgtd cannot
produce (malformed PDUs, bit flips, odd logins, async events). It is not a
target to test against otherwise: every behaviour that a real target can
show is tested against tgtd by the other scripts in this directory.

It listens on 127.0.0.1:PORT, prints "listening", logs an initiator in
(AuthMethod None or CHAP-MD5; login text in parts with the C bit either
way), serves one small in-memory LUN and injects the one fault chosen by
--scenario ("silent": nothing more answered on the connection after
--after READs/WRITEs; "mute": nothing answered after the login, on every
connection). It exits after --sessions sessions ended with the
initiator's own Logout or (scenario redirect) were redirected, with
status 0; or after --timeout seconds, with status 3. Lines containing
"VIOLATION" mean the initiator broke RFC 7143 in a way this fake can see
(bad digest, CmdSN out of window, bad echo, a Login PDU over 8192
bytes...).

Some scenarios play a hostile target, one that lies or never lets go
(hostile.sh): READ data that does not add up with its status (read-*),
R2Ts repeated, out of order, beyond MaxOutstandingR2T or with the
reserved tag (r2t-*), a flood of NOP-In pings while it reads nothing
(nop-flood), a connection closed on every SCSI command (drop-command),
an impossible READ CAPACITY (bad-capacity). --repeat makes a command
fault hit every command after --after, not just the first; --image gives
the LUN contents that a lie would corrupt.

Wire format: RFC 7143 section 11; every BHS is built with struct '>'.
"""
import argparse
import base64
import hashlib
import hmac
import os
import select
import socket
import struct
import sys
import threading
import time

# ---- Opcodes (RFC 7143 11.1.1)
OP_NOP_OUT, OP_SCSI_CMD, OP_TMF_REQ, OP_LOGIN_REQ = 0x00, 0x01, 0x02, 0x03
OP_TEXT_REQ, OP_DATA_OUT, OP_LOGOUT_REQ = 0x04, 0x05, 0x06
OP_NOP_IN, OP_SCSI_RSP, OP_LOGIN_RSP, OP_DATA_IN = 0x20, 0x21, 0x23, 0x25
OP_LOGOUT_RSP, OP_R2T, OP_ASYNC, OP_REJECT = 0x26, 0x31, 0x32, 0x3F
OP_UNASSIGNED = 0x1C            # no PDU type has this opcode
OPCODE_NAMES = {OP_NOP_OUT: "NOP-Out", OP_SCSI_CMD: "SCSI Command",
                OP_TMF_REQ: "Task Management", OP_LOGIN_REQ: "Login",
                OP_TEXT_REQ: "Text", OP_DATA_OUT: "Data-Out",
                OP_LOGOUT_REQ: "Logout", 0x10: "SNACK"}
RESERVED_TAG = 0xFFFFFFFF

# ---- SCSI
GOOD, CHECK_CONDITION = 0x00, 0x02
ILLEGAL_REQUEST, UNIT_ATTENTION = 0x05, 0x06
READ_OPS = (0x28, 0x88)
WRITE_OPS = (0x2A, 0x8A)

# ---- Login text: no Login PDU may carry more than LOGIN_PDU_DATA_MAX bytes
# (the MaxRecvDataSegmentLength default, RFC 7143 13.12). login-continue cuts
# its long response into parts of these sizes in turn, so that cuts fall
# inside keys and values.
LOGIN_PDU_DATA_MAX = 8192
LOGIN_PART_SIZES = (7919, 1, 4099, 8192, 333, 6007, 5)

# ---- What this target declares or accepts in the operational stage
TARGET_MAX_RECV_DSL = 65536     # the initiator's Data-Out PDUs are cut at this
TARGET_MAX_BURST = 262144
TARGET_FIRST_BURST = 65536
DATA_IN_CHUNK_MAX = 65536       # several Data-In PDUs per READ
CMD_WINDOW = 32                 # MaxCmdSN - ExpCmdSN + 1

SCENARIOS = ["none", "async-logout", "async-drop", "redirect", "long-challenge",
             "chap-list-reject", "chap-list-drop", "login-continue",
             "bad-header-digest", "bad-data-digest", "bad-opcode",
             "huge-data-segment", "data-in-overflow", "unknown-itt",
             "truncated-pdu", "reject", "reject-nop", "nop-ping", "silent",
             "unit-attention", "read-short", "read-underflow", "read-gap",
             "read-overlap", "read-datasn", "read-expdatasn", "r2t-repeat",
             "r2t-order", "r2t-excess", "r2t-ttt", "nop-flood", "drop-command",
             "bad-capacity", "mute"]
# READs answered with Data-In that does not add up (hostile.sh).
BAD_READS = {"read-short", "read-underflow", "read-gap", "read-overlap",
             "read-datasn", "read-expdatasn"}
# WRITEs answered with R2Ts that break the rules (hostile.sh).
BAD_R2TS = {"r2t-repeat", "r2t-order", "r2t-excess", "r2t-ttt"}
# Faults injected when a READ or WRITE arrives, after --after of them.
COMMAND_FAULTS = {"async-logout", "async-drop", "bad-header-digest",
                  "bad-data-digest", "bad-opcode", "huge-data-segment",
                  "data-in-overflow", "unknown-itt", "truncated-pdu", "reject",
                  "reject-nop", "nop-ping", "silent", "nop-flood"} | \
    BAD_READS | BAD_R2TS
# Faults that need a Data-In to ride on: they wait for a READ.
READ_FAULTS = {"bad-data-digest", "huge-data-segment", "data-in-overflow",
               "truncated-pdu"} | BAD_READS
# ... or a WRITE's R2Ts.
WRITE_FAULTS = BAD_R2TS


# ---- CRC32C (Castagnoli), for HeaderDigest and DataDigest (RFC 7143 13.1)

def make_crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = make_crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def digest_bytes(data):
    # The digest goes on the wire least significant byte first (RFC 7143 B.4).
    return struct.pack("<I", crc32c(data))


def pad_len(n):
    return (4 - n % 4) % 4


# ---- Shared state: one lock serialises all PDU handling

class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.start = time.monotonic()
        if args.image:
            with open(args.image, "rb") as f:
                self.lun_data = bytearray(f.read())
        else:
            self.lun_data = bytearray(args.size_mib << 20)
        self.data_cmds = 0          # READ/WRITE commands seen, all connections
        self.fault_done = False
        self.fault_time = None
        self.faults = 0             # faults injected (several with --repeat)
        self.sessions_done = 0
        self.next_tsih = 1
        self.next_ttt = 0x100
        self.conn_count = 0
        self.live = {}              # ISID -> Conn of the logged-in session

    def elapsed(self):
        return time.monotonic() - self.start


STATE = None


def log(conn, msg):
    who = f"conn {conn.number}" if conn else "target"
    with STATE.log_lock:
        print(f"[{STATE.elapsed():7.3f}] {who}: {msg}", flush=True)


def violation(conn, msg):
    log(conn, f"VIOLATION: {msg}")


class Conn:
    def __init__(self, sock, number):
        self.sock = sock
        self.number = number
        self.header_digest = False
        self.data_digest = False
        self.stat_sn = 0x1000 * number      # any start value is legal
        self.exp_cmd_sn = 0
        self.max_cmd_sn_sent = 0
        self.login_started = False
        self.logged_in = False
        self.isid = None
        self.tsih = 0
        self.cid = 0
        self.auth_done = False
        self.chap = None                    # (CHAP_I, challenge) sent
        self.rx_text = b""                  # Login Request parts (C bit)
        self.rx_parts = 0
        self.tx_parts = []                  # Login Response parts still to send
        self.tx_flags = 0                   # ...and the last one's flags
        self.junk_sent = 0                  # login-continue: unknown keys sent
        self.pending_digests = {}           # on once the login completes
        self.initiator_max_recv_dsl = 8192
        self.max_burst = 262144
        self.writes = {}                    # ITT -> WriteTask
        self.mode = "serve"                 # "serve", or "ignore" after a fault
        self.ignore_since = None
        self.held = None                    # (deadline, PDU) answered late
        self.corrupt_next = None            # "header" or "data"
        self.ping = None                    # (TTT, data) awaiting its echo
        self.r2t_fault = None               # r2t-*: for this connection's WRITE
        self.logout_requested = False
        self.ua_left = 0


class Pdu:
    def __init__(self, bhs, data):
        self.bhs = bhs
        self.data = data
        self.opcode = bhs[0] & 0x3F
        self.immediate = bool(bhs[0] & 0x40)
        self.flags = bhs[1]
        self.lun = struct.unpack_from(">Q", bhs, 8)[0]
        self.itt = struct.unpack_from(">I", bhs, 16)[0]
        self.word20 = struct.unpack_from(">I", bhs, 20)[0]
        self.cmd_sn = struct.unpack_from(">I", bhs, 24)[0]
        self.exp_stat_sn = struct.unpack_from(">I", bhs, 28)[0]


# ---- Framing

def recv_exact(conn, n):
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = conn.sock.recv(n - len(buf))
        except ConnectionResetError:
            chunk = b""     # the initiator gives a connection up with a reset
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def recv_pdu(conn):
    bhs = recv_exact(conn, 48)
    ahs = recv_exact(conn, bhs[4] * 4)
    if conn.header_digest:
        got = recv_exact(conn, 4)
        if got != digest_bytes(bhs + ahs):
            violation(conn, "bad HeaderDigest from the initiator")
    dsl = int.from_bytes(bhs[5:8], "big")
    data = recv_exact(conn, dsl + pad_len(dsl)) if dsl else b""
    if dsl and conn.data_digest:
        got = recv_exact(conn, 4)
        if got != digest_bytes(data):
            violation(conn, "bad DataDigest from the initiator")
    return Pdu(bhs, data[:dsl])


def frame(conn, bhs, data=b""):
    """The bytes of one PDU, with digests, and the fault of --scenario
    *-digest applied after the digest was computed."""
    out = bytearray(bhs)
    if conn.header_digest:
        out += digest_bytes(bhs)
        if conn.corrupt_next == "header":
            # Buffer Offset / R2T offset / residual: a bit that would
            # silently misplace data if the digest were not checked.
            out[42] ^= 0x02
            conn.corrupt_next = None
            log(conn, "FAULT: flipped one bit of a BHS after its HeaderDigest")
    if data:
        payload = bytes(data) + b"\0" * pad_len(len(data))
        data_start = len(out)
        out += payload
        if conn.data_digest:
            out += digest_bytes(payload)
            if conn.corrupt_next == "data":
                out[data_start] ^= 0x01
                conn.corrupt_next = None
                log(conn, "FAULT: flipped one bit of a data segment after its DataDigest")
    return bytes(out)


def send_pdu(conn, bhs, data=b""):
    conn.sock.sendall(frame(conn, bhs, data))


def make_bhs(opcode, flags, b2=0, b3=0, dsl=0, lun=0, itt=RESERVED_TAG,
             word20=RESERVED_TAG, word24=0, word28=0, word32=0, tail=b""):
    """Bytes 0-35 are laid out alike for every target PDU; tail is 36-47.
    TotalAHSLength (byte 4) is always 0 here, so bytes 4-7 are the DSL."""
    return struct.pack(">BBBBIQIIIII12s", opcode, flags, b2, b3, dsl & 0xFFFFFF,
                       lun, itt, word20, word24, word28, word32, tail)


def sequence_numbers(conn, advance_stat_sn):
    """StatSN, ExpCmdSN, MaxCmdSN for the next target PDU."""
    stat_sn = conn.stat_sn
    if advance_stat_sn:
        conn.stat_sn = (conn.stat_sn + 1) & 0xFFFFFFFF
    max_cmd_sn = (conn.exp_cmd_sn + CMD_WINDOW - 1) & 0xFFFFFFFF
    conn.max_cmd_sn_sent = max_cmd_sn
    return stat_sn, conn.exp_cmd_sn, max_cmd_sn


def sn_after(a, b):
    """a > b in serial number arithmetic (RFC 1982)."""
    return a != b and ((a - b) & 0xFFFFFFFF) < 0x80000000


# ---- Target PDUs: one function each

def send_login_pdu(conn, req, flags, data=b"", status=0x0000):
    stat_sn, exp, mx = sequence_numbers(conn, True)
    isid_tsih = int.from_bytes(req.bhs[8:14], "big") << 16 | conn.tsih
    tail = struct.pack(">BB10x", status >> 8, status & 0xFF)
    send_pdu(conn, make_bhs(OP_LOGIN_RSP, flags, 0, 0, len(data), isid_tsih,
                            req.itt, 0, stat_sn, exp, mx, tail), data)


def split_text(data, sizes):
    parts, at = [], 0
    while at < len(data):
        size = sizes[len(parts) % len(sizes)]
        parts.append(data[at:at + size])
        at += size
    return parts


def send_login_response(conn, req, transit, csg, nsg, keys=(), status=0x0000,
                        part_sizes=None):
    """With part_sizes, the text goes out in parts: the first now with the
    C bit, the others each when an empty Login Request asks for it."""
    data = b"".join(f"{k}={v}".encode() + b"\0" for k, v in keys)
    flags = (0x80 if transit else 0) | csg << 2 | nsg
    if not part_sizes or len(data) <= part_sizes[0]:
        send_login_pdu(conn, req, flags, data, status)
        return 1
    parts = split_text(data, part_sizes)
    conn.tx_parts, conn.tx_flags = parts[1:], flags
    send_login_pdu(conn, req, 0x40 | csg << 2 | nsg, parts[0], status)
    return len(parts)


def send_next_part(conn, req):
    """The initiator asks for the next part of our text: RFC 7143 6.1."""
    if req.data or req.flags & 0xC0 or (req.flags >> 2) & 3 != (conn.tx_flags >> 2) & 3:
        violation(conn, f"answer to a Login Response with the C bit: flags "
                        f"0x{req.flags:02x}, {len(req.data)} bytes; expected an "
                        f"empty Login Request in the same stage, without C or T")
    part = conn.tx_parts.pop(0)
    last = not conn.tx_parts
    send_login_pdu(conn, req, conn.tx_flags if last else 0x40 | (conn.tx_flags & 0x0F),
                   part)
    return None


def receive_part(conn, req):
    """A Login Request part with the C bit: kept, and answered empty."""
    if req.flags & 0x80:
        violation(conn, "Login Request with both the C and the T bit")
    conn.rx_text += req.data
    conn.rx_parts += 1
    log(conn, f"Login Request part {conn.rx_parts} with the C bit "
              f"({len(req.data)} bytes)")
    send_login_pdu(conn, req, req.flags & 0x0F)
    return None


def send_scsi_response(conn, itt, status, sense=b"", residual_flags=0, residual=0,
                       exp_data_sn=0):
    data = struct.pack(">H", len(sense)) + sense if sense else b""
    stat_sn, exp, mx = sequence_numbers(conn, True)
    tail = struct.pack(">III", exp_data_sn, 0, residual)
    send_pdu(conn, make_bhs(OP_SCSI_RSP, 0x80 | residual_flags, 0, status,
                            len(data), 0, itt, 0, stat_sn, exp, mx, tail), data)


def send_data_in(conn, pdu, offset, chunk, data_sn, final_status=None,
                 residual_flags=0, residual=0, itt=None):
    """With final_status, the PDU carries the command's status (S bit)."""
    flags = 0
    stat_sn = 0
    if final_status is not None:
        flags = 0x80 | 0x01 | residual_flags
        stat_sn, exp, mx = sequence_numbers(conn, True)
    else:
        _, exp, mx = sequence_numbers(conn, False)
    tail = struct.pack(">III", data_sn, offset, residual)
    send_pdu(conn, make_bhs(OP_DATA_IN, flags, 0, final_status or 0, len(chunk),
                            pdu.lun, pdu.itt if itt is None else itt,
                            RESERVED_TAG, stat_sn, exp, mx, tail), chunk)


def r2t_bytes(conn, task, r2t_sn, offset, length, ttt=None):
    stat_sn, exp, mx = sequence_numbers(conn, False)
    tail = struct.pack(">III", r2t_sn, offset, length)
    return frame(conn, make_bhs(OP_R2T, 0x80, 0, 0, 0, task.lun, task.itt,
                                task.ttt if ttt is None else ttt,
                                stat_sn, exp, mx, tail))


def send_r2t(conn, task):
    conn.sock.sendall(r2t_bytes(conn, task, task.r2t_sn, task.burst_offset,
                                task.burst_len))


def nop_in_bytes(conn, itt, ttt, lun, data):
    # A reply (ITT set) takes a StatSN; a ping of ours (ITT reserved) does not.
    stat_sn, exp, mx = sequence_numbers(conn, itt != RESERVED_TAG)
    return frame(conn, make_bhs(OP_NOP_IN, 0x80, 0, 0, len(data), lun, itt, ttt,
                                stat_sn, exp, mx, b""), data)


def send_nop_in(conn, itt, ttt, lun, data):
    conn.sock.sendall(nop_in_bytes(conn, itt, ttt, lun, data))


def send_async(conn, event, param1=0, param2=0, param3=0):
    stat_sn, exp, mx = sequence_numbers(conn, True)
    tail = struct.pack(">BBHHH4x", event, 0, param1, param2, param3)
    send_pdu(conn, make_bhs(OP_ASYNC, 0x80, 0, 0, 0, 0, RESERVED_TAG,
                            RESERVED_TAG, stat_sn, exp, mx, tail))


def send_logout_response(conn, itt, time2wait):
    stat_sn, exp, mx = sequence_numbers(conn, True)
    tail = struct.pack(">4xHH4x", time2wait, 0)
    send_pdu(conn, make_bhs(OP_LOGOUT_RSP, 0x80, 0, 0, 0, 0, itt, 0,
                            stat_sn, exp, mx, tail))


def send_reject(conn, reason, rejected):
    stat_sn, exp, mx = sequence_numbers(conn, True)
    send_pdu(conn, make_bhs(OP_REJECT, 0x80, reason, 0, 48, 0, RESERVED_TAG,
                            RESERVED_TAG, stat_sn, exp, mx, b""), rejected.bhs)


def send_unassigned_opcode(conn):
    stat_sn, exp, mx = sequence_numbers(conn, False)
    send_pdu(conn, make_bhs(OP_UNASSIGNED, 0x80, 0, 0, 0, 0, RESERVED_TAG,
                            RESERVED_TAG, stat_sn, exp, mx, b""))


# ---- Login

def parse_keys(data):
    keys = {}
    for item in data.split(b"\0"):
        if item:
            k, _, v = item.decode("utf-8", "replace").partition("=")
            keys[k] = v
    return keys


def decode_chap_binary(value):
    if value[:2] in ("0x", "0X"):
        return bytes.fromhex(value[2:])
    if value[:2] in ("0b", "0B"):
        return base64.b64decode(value[2:])
    raise ValueError("not a binary value")


def encode_chap_binary(raw):
    if STATE.args.challenge_encoding == "base64":
        return "0b" + base64.b64encode(raw).decode()
    return "0x" + raw.hex()


def login_failed(conn, req, status, why):
    log(conn, f"login refused with status 0x{status:04x}: {why}")
    send_login_response(conn, req, False, (req.flags >> 2) & 3, req.flags & 3,
                        status=status)
    return "close"


def answer_auth_method(conn, req, offered, reply):
    want = "CHAP" if STATE.args.chap_user else "None"
    if want not in offered.split(","):
        return login_failed(conn, req, 0x0201, f"AuthMethod={offered}, need {want}")
    reply.append(("AuthMethod", want))
    conn.auth_done = want == "None"
    return None


def answer_chap_algorithm(conn, req, algorithms, reply):
    algs = algorithms.split(",")
    if STATE.args.scenario == "chap-list-reject" and len(algs) > 1:
        log(conn, f"FAULT: rejecting the CHAP_A list {algorithms} (like old LIO/Synology)")
        return login_failed(conn, req, 0x0201, "CHAP_A list")
    if STATE.args.scenario == "chap-list-drop" and len(algs) > 1 and \
            not STATE.fault_done:
        STATE.fault_done = True
        log(conn, f"FAULT: closing the connection instead of answering CHAP_A={algorithms}")
        return "close"
    if "5" not in algs:
        return login_failed(conn, req, 0x0201, f"no MD5 in CHAP_A={algorithms}")
    ident = os.urandom(1)[0]
    challenge = os.urandom(STATE.args.challenge_len)
    conn.chap = (ident, challenge)
    log(conn, f"CHAP_A={algorithms}: chose MD5, sending a {len(challenge)}-byte "
              f"challenge ({STATE.args.challenge_encoding})")
    reply += [("CHAP_A", "5"), ("CHAP_I", str(ident)),
              ("CHAP_C", encode_chap_binary(challenge))]
    return None


def check_chap_response(conn, req, keys):
    if conn.chap is None:
        return login_failed(conn, req, 0x0200, "CHAP_R before a challenge")
    ident, challenge = conn.chap
    secret = STATE.args.chap_secret.encode()
    expected = hashlib.md5(bytes([ident]) + secret + challenge).digest()
    try:
        answer = decode_chap_binary(keys["CHAP_R"])
    except ValueError:
        answer = b""
    if keys.get("CHAP_N") != STATE.args.chap_user or \
            not hmac.compare_digest(answer, expected):
        return login_failed(conn, req, 0x0201, "wrong CHAP_N or CHAP_R")
    log(conn, f"CHAP_R verified (MD5, {len(challenge)}-byte challenge)")
    conn.auth_done = True
    return None


def security_stage(conn, req, keys, transit, nsg):
    reply = [] if conn.login_started else [("TargetPortalGroupTag", "1")]
    conn.login_started = True
    for key, handler in (("AuthMethod", answer_auth_method),
                         ("CHAP_A", answer_chap_algorithm)):
        if key in keys:
            result = handler(conn, req, keys[key], reply)
            if result:
                return result
    if "CHAP_R" in keys:
        result = check_chap_response(conn, req, keys)
        if result:
            return result
    if transit and conn.auth_done:
        send_login_response(conn, req, True, 0, nsg, reply)
        if nsg == 3:
            return complete_login(conn)
        return None
    send_login_response(conn, req, False, 0, 1, reply)
    return None


def answer_operational_key(conn, key, value):
    """Our answer to one offered key: sane values, tgtd-like but small."""
    if key in ("HeaderDigest", "DataDigest"):
        return "CRC32C" if "CRC32C" in value.split(",") else "None"
    if key == "MaxRecvDataSegmentLength":
        conn.initiator_max_recv_dsl = int(value)
        return None                 # declarative: ours is sent anyway
    if key == "MaxBurstLength":
        conn.max_burst = min(int(value), TARGET_MAX_BURST)
        return str(conn.max_burst)
    if key == "FirstBurstLength":
        return str(min(int(value), TARGET_FIRST_BURST))
    if key == "DefaultTime2Wait":
        return str(max(int(value), 1))
    answers = {"InitialR2T": "Yes", "ImmediateData": value,
               "MaxOutstandingR2T": "1", "DataPDUInOrder": "Yes",
               "DataSequenceInOrder": "Yes", "ErrorRecoveryLevel": "0",
               "DefaultTime2Retain": "0", "MaxConnections": "1"}
    return answers.get(key, "NotUnderstood")


def check_junk_answers(conn, keys):
    """login-continue: every unknown key we sent must come back
    NotUnderstood (RFC 7143 6.2)."""
    answered = sum(1 for i in range(conn.junk_sent)
                   if keys.get(f"X-junk-{i}") == "NotUnderstood")
    if answered == conn.junk_sent:
        log(conn, f"all {answered} unknown keys answered NotUnderstood")
    else:
        violation(conn, f"{answered} of {conn.junk_sent} unknown keys answered "
                        f"NotUnderstood")
    conn.junk_sent = 0
    return {k: v for k, v in keys.items() if not k.startswith("X-junk-")}


def send_junk(conn, req, reply):
    """login-continue: the operational answers and many unknown keys in one
    long text, sent in parts; T=0, so the initiator must answer them."""
    count, vlen = STATE.args.junk_keys, STATE.args.junk_value_len
    junk = [(f"X-junk-{i}", f"{i:0{vlen}d}"[-vlen:] if vlen else "")
            for i in range(count)]
    size = sum(len(k) + len(v) + 2 for k, v in reply + junk)
    conn.junk_sent = count
    parts = send_login_response(conn, req, False, 1, 3, reply + junk,
                                part_sizes=LOGIN_PART_SIZES)
    log(conn, f"FAULT: {count} unknown keys, {size} bytes of text in {parts} "
              f"Login Responses with the C bit")
    return None


def operational_stage(conn, req, keys, transit, nsg):
    reply = [("MaxRecvDataSegmentLength", str(TARGET_MAX_RECV_DSL))]
    digests = {}
    if conn.junk_sent:
        keys = check_junk_answers(conn, keys)
    for key, value in keys.items():
        answer = answer_operational_key(conn, key, value)
        if answer is not None:
            reply.append((key, answer))
        if key in ("HeaderDigest", "DataDigest"):
            digests[key] = answer == "CRC32C"
    conn.pending_digests.update(digests)
    if STATE.args.scenario == "login-continue" and digests:
        return send_junk(conn, req, reply)
    if transit and nsg == 3:
        send_login_response(conn, req, True, 1, 3, reply)
        return complete_login(conn)
    send_login_response(conn, req, False, 1, 3, reply)
    return None


def complete_login(conn):
    """The final Login Response is out: full feature phase from here."""
    conn.header_digest = conn.pending_digests.get("HeaderDigest", False)
    conn.data_digest = conn.pending_digests.get("DataDigest", False)
    conn.logged_in = True
    conn.tsih = STATE.next_tsih
    STATE.next_tsih += 1
    old = STATE.live.get(conn.isid)
    if old is not None and old is not conn:
        log(conn, f"session reinstatement: closing conn {old.number} of the old session")
        shutdown_quietly(old)
    STATE.live[conn.isid] = conn
    if STATE.args.scenario == "unit-attention":
        conn.ua_left = STATE.args.ua_count
    log(conn, f"login complete: ISID=0x{conn.isid:012x} new TSIH=0x{conn.tsih:04x} "
              f"HeaderDigest={'CRC32C' if conn.header_digest else 'None'} "
              f"DataDigest={'CRC32C' if conn.data_digest else 'None'} "
              f"initiator MaxRecvDataSegmentLength={conn.initiator_max_recv_dsl}")
    if STATE.args.scenario == "mute":
        # A LUN that logs in and then answers nothing, on every connection:
        # no command, no NOP-Out, no Logout.
        log(conn, "FAULT: mute from the login on (the TCP connection stays open)")
        ignore_from_now(conn)
    return None


def handle_login(conn, req):
    if conn.logged_in:
        violation(conn, "Login Request in the full feature phase")
        return "close"
    transit = bool(req.flags & 0x80)
    csg, nsg = (req.flags >> 2) & 3, req.flags & 3
    conn.exp_cmd_sn = req.cmd_sn        # login requests are immediate
    if len(req.data) > LOGIN_PDU_DATA_MAX:
        violation(conn, f"Login Request with {len(req.data)} bytes of text, more "
                        f"than {LOGIN_PDU_DATA_MAX}")
    if conn.tx_parts:
        return send_next_part(conn, req)
    if req.flags & 0x40:
        return receive_part(conn, req)
    if conn.rx_parts:
        log(conn, f"Login Request text complete: {conn.rx_parts + 1} parts, "
                  f"{len(conn.rx_text) + len(req.data)} bytes")
    keys = parse_keys(conn.rx_text + req.data)
    conn.rx_text, conn.rx_parts = b"", 0
    if conn.isid is None:
        conn.isid = int.from_bytes(req.bhs[8:14], "big")
        conn.cid = struct.unpack_from(">H", req.bhs, 20)[0]
        request_tsih = struct.unpack_from(">H", req.bhs, 14)[0]
        log(conn, f"login request: ISID=0x{conn.isid:012x} TSIH=0x{request_tsih:04x} "
                  f"CID={conn.cid} CmdSN={req.cmd_sn} "
                  f"InitiatorName={keys.get('InitiatorName', '?')}")
    if STATE.args.scenario == "redirect":
        address = f"{STATE.args.redirect_host}:{STATE.args.redirect_port},1"
        log(conn, f"FAULT: redirecting (0x0101) to TargetAddress={address}")
        send_login_response(conn, req, False, csg, nsg, [("TargetAddress", address)],
                            status=0x0101)
        finish_session(conn, "redirected")
        return "close"
    if "TargetName" in keys and keys["TargetName"] != STATE.args.iqn:
        return login_failed(conn, req, 0x0203, f"no target {keys['TargetName']}")
    if csg == 0:
        return security_stage(conn, req, keys, transit, nsg)
    if csg == 1 and conn.auth_done:
        return operational_stage(conn, req, keys, transit, nsg)
    return login_failed(conn, req, 0x0200, f"stage {csg} not allowed now")


# ---- SCSI: the in-memory LUN

def sense_fixed(key, asc, ascq):
    return struct.pack(">BBBIBIBBBBBB", 0x70, 0, key, 0, 10, 0, asc, ascq, 0, 0, 0, 0)


def check_condition(key, asc, ascq):
    return CHECK_CONDITION, sense_fixed(key, asc, ascq), b""


def lun_blocks():
    return len(STATE.lun_data) // STATE.args.block_size


def inquiry(cdb):
    evpd, page = cdb[1] & 1, cdb[2]
    alloc = struct.unpack_from(">H", cdb, 3)[0]
    if not evpd:
        data = struct.pack(">BBBBBBBB8s16s4s", 0, 0, 6, 2, 31, 0, 0, 0x02,
                           b"FAKETGT ", b"FAULT INJECTOR  ", b"0001")
    elif page == 0x00:
        data = bytes([0, 0x00, 0, 4, 0x00, 0x80, 0x83, 0xB0])
    elif page == 0x80:
        serial = b"FAKE0001"
        data = bytes([0, 0x80, 0, len(serial)]) + serial
    elif page == 0x83:
        naa = bytes([0x01, 0x03, 0x00, 0x08]) + bytes.fromhex("6001405fa4e00001")
        data = bytes([0, 0x83, 0, len(naa)]) + naa
    elif page == 0xB0:
        # Block Limits: no transfer limit, no UNMAP.
        data = bytes([0, 0xB0, 0, 0x3C]) + bytes(0x3C)
    else:
        return check_condition(ILLEGAL_REQUEST, 0x24, 0x00)
    return GOOD, b"", data[:alloc]


def read_capacity(cdb):
    last = lun_blocks() - 1
    bs = STATE.args.block_size
    if STATE.args.scenario == "bad-capacity":
        last, bs = STATE.args.cap_last_lba, STATE.args.cap_block_size
        log(None, f"FAULT: READ CAPACITY({10 if cdb[0] == 0x25 else 16}) says "
                  f"last LBA {last}, blocks of {bs} bytes")
    if cdb[0] == 0x25:
        return GOOD, b"", struct.pack(">II", min(last, 0xFFFFFFFF), bs)
    alloc = struct.unpack_from(">I", cdb, 10)[0]
    return GOOD, b"", struct.pack(">QIBBH16x", last, bs, 0, 0, 0)[:alloc]


def block_range(cdb):
    if cdb[0] in (0x28, 0x2A):
        lba, count = struct.unpack_from(">I", cdb, 2)[0], struct.unpack_from(">H", cdb, 7)[0]
    else:
        lba, count = struct.unpack_from(">Q", cdb, 2)[0], struct.unpack_from(">I", cdb, 10)[0]
    return lba, count


def read_blocks(cdb):
    lba, count = block_range(cdb)
    if lba + count > lun_blocks():
        return check_condition(ILLEGAL_REQUEST, 0x21, 0x00)
    bs = STATE.args.block_size
    return GOOD, b"", bytes(STATE.lun_data[lba * bs:(lba + count) * bs])


def write_blocks(conn, cdb, data):
    lba, count = block_range(cdb)
    if lba + count > lun_blocks():
        return check_condition(ILLEGAL_REQUEST, 0x21, 0x00)
    bs = STATE.args.block_size
    if len(data) != count * bs:
        violation(conn, f"WRITE of {count} blocks carried {len(data)} bytes")
    STATE.lun_data[lba * bs:lba * bs + min(len(data), count * bs)] = data[:count * bs]
    return GOOD, b"", b""


def report_luns(cdb):
    alloc = struct.unpack_from(">I", cdb, 6)[0]
    entry = struct.pack(">Q", sam_lun(STATE.args.lun))
    return GOOD, b"", (struct.pack(">I4x", len(entry)) + entry)[:alloc]


def sam_lun(number):
    return number << 48        # peripheral addressing, LUN < 256


def execute(conn, cdb, lun, write_data=None):
    """Runs one CDB: (status, sense, data for Data-In)."""
    op = cdb[0]
    if op == 0xA0:
        return report_luns(cdb)
    if lun != sam_lun(STATE.args.lun):
        if op == 0x12:
            return GOOD, b"", bytes([0x7F]) + bytes(35)
        return check_condition(ILLEGAL_REQUEST, 0x25, 0x00)
    if op == 0x00 or op in (0x35, 0x91):            # TUR, SYNCHRONIZE CACHE
        return GOOD, b"", b""
    if op == 0x12:
        return inquiry(cdb)
    if op == 0x25 or (op == 0x9E and cdb[1] & 0x1F == 0x10):
        return read_capacity(cdb)
    if op == 0x1A:                                  # MODE SENSE(6), no WP
        return GOOD, b"", bytes([3, 0, 0, 0])[:cdb[4]]
    if op in READ_OPS:
        return read_blocks(cdb)
    if op in WRITE_OPS:
        return write_blocks(conn, cdb, write_data or b"")
    return check_condition(ILLEGAL_REQUEST, 0x20, 0x00)


# ---- Full feature phase: commands, Data-Out, NOP, Logout

class WriteTask:
    def __init__(self, pdu, edtl):
        self.itt = pdu.itt
        self.lun = pdu.lun
        self.cdb = pdu.bhs[32:48]
        self.edtl = edtl
        self.buf = bytearray(edtl)
        self.received = 0
        self.ttt = RESERVED_TAG
        self.r2t_sn = 0
        self.burst_offset = 0
        self.burst_len = 0
        self.legit_end = None       # r2t-*: Data-Out past this answers a bad R2T


def check_cmd_sn(conn, pdu):
    if pdu.immediate:
        return
    if pdu.cmd_sn != conn.exp_cmd_sn:
        violation(conn, f"CmdSN {pdu.cmd_sn}, expected {conn.exp_cmd_sn}")
    if sn_after(pdu.cmd_sn, conn.max_cmd_sn_sent):
        violation(conn, f"CmdSN {pdu.cmd_sn} beyond MaxCmdSN {conn.max_cmd_sn_sent}")
    conn.exp_cmd_sn = (pdu.cmd_sn + 1) & 0xFFFFFFFF


def send_result(conn, pdu, status, sense, data):
    """Data-In PDUs (status in the last) or one SCSI Response."""
    edtl = struct.unpack_from(">I", pdu.bhs, 20)[0]
    if len(data) > edtl:
        flags, residual, data = 0x04, len(data) - edtl, data[:edtl]
    elif len(data) < edtl:
        flags, residual = 0x02, edtl - len(data)
    else:
        flags, residual = 0, 0
    if status != GOOD or not data:
        send_scsi_response(conn, pdu.itt, status, sense, flags, residual)
        return
    chunk_max = min(conn.initiator_max_recv_dsl, DATA_IN_CHUNK_MAX)
    for data_sn, offset in enumerate(range(0, len(data), chunk_max)):
        chunk = data[offset:offset + chunk_max]
        last = offset + len(chunk) == len(data)
        send_data_in(conn, pdu, offset, chunk, data_sn,
                     GOOD if last else None, flags, residual)


def start_write(conn, pdu, edtl):
    task = WriteTask(pdu, edtl)
    if len(pdu.data) > edtl:
        violation(conn, f"{len(pdu.data)} bytes of immediate data for EDTL {edtl}")
    task.buf[:len(pdu.data)] = pdu.data[:edtl]
    task.received = min(len(pdu.data), edtl)
    conn.writes[pdu.itt] = task
    if pdu.flags & 0x80:                # F: no unsolicited Data-Out follows
        continue_write(conn, task)


def continue_write(conn, task):
    if task.received >= task.edtl:
        del conn.writes[task.itt]
        status, sense, _ = execute(conn, task.cdb, task.lun, bytes(task.buf))
        send_scsi_response(conn, task.itt, status, sense)
        return
    task.ttt = STATE.next_ttt
    STATE.next_ttt += 1
    task.burst_offset = task.received
    task.burst_len = min(task.edtl - task.received, conn.max_burst)
    if conn.r2t_fault and task.burst_len >= 1024:
        send_bad_r2ts(conn, task)
        return
    send_r2t(conn, task)
    task.r2t_sn += 1


def send_bad_r2ts(conn, task):
    """r2t-*: R2Ts that a correct initiator refuses, all in one segment so
    that they arrive together (none of their Data-Out is out yet)."""
    sc, conn.r2t_fault = conn.r2t_fault, None
    sn, off, length = task.r2t_sn, task.burst_offset, task.burst_len
    half = length // 2 // 512 * 512
    if sc == "r2t-repeat":
        out = r2t_bytes(conn, task, sn, off, length) * 2
        what = f"the same R2T (R2TSN {sn}, {length} bytes at {off}) twice"
        task.legit_end = off + length
    elif sc == "r2t-order":
        out = r2t_bytes(conn, task, sn + 1, off + half, length - half)
        what = (f"R2TSN {sn + 1} for {length - half} bytes at {off + half} "
                f"before R2TSN {sn} (never sent)")
        task.legit_end = off
    elif sc == "r2t-excess":
        out = r2t_bytes(conn, task, sn, off, half) + \
            r2t_bytes(conn, task, sn + 1, off + half, length - half)
        what = (f"2 R2Ts at once ({half} bytes at {off}, {length - half} at "
                f"{off + half}) with MaxOutstandingR2T=1")
        task.legit_end = off + half
    else:
        out = r2t_bytes(conn, task, sn, off, length, ttt=RESERVED_TAG)
        what = (f"R2T with the reserved Target Transfer Tag 0xffffffff "
                f"(R2TSN {sn}, {length} bytes at {off})")
        task.legit_end = off
    log(conn, f"FAULT: {what}")
    task.r2t_sn += 2
    conn.sock.sendall(out)


def handle_data_out(conn, pdu):
    task = conn.writes.get(pdu.itt)
    offset = struct.unpack_from(">I", pdu.bhs, 40)[0]
    if task is None:
        violation(conn, f"Data-Out for unknown ITT 0x{pdu.itt:08x}")
        return None
    if pdu.word20 not in (task.ttt, RESERVED_TAG):
        violation(conn, f"Data-Out TTT 0x{pdu.word20:08x}, R2T said 0x{task.ttt:08x}")
    if task.legit_end is not None and offset + len(pdu.data) > task.legit_end:
        violation(conn, f"Data-Out at {offset}+{len(pdu.data)} answers an R2T "
                        f"that breaks the rules (only {task.legit_end} bytes were "
                        f"asked for correctly)")
        task.legit_end = None           # said once; the data is kept
    if offset != task.received or offset + len(pdu.data) > task.edtl:
        violation(conn, f"Data-Out at {offset}+{len(pdu.data)}, expected "
                        f"{task.received} within {task.edtl}")
        return None
    task.buf[offset:offset + len(pdu.data)] = pdu.data
    task.received += len(pdu.data)
    if pdu.flags & 0x80:
        if pdu.word20 != RESERVED_TAG and \
                task.received != task.burst_offset + task.burst_len:
            violation(conn, "Data-Out sequence ended short of the R2T")
        continue_write(conn, task)
    return None


def handle_nop_out(conn, pdu):
    if pdu.itt != RESERVED_TAG:
        send_nop_in(conn, pdu.itt, RESERVED_TAG, pdu.lun, pdu.data)
        return None
    # The echo of one of our pings (RFC 7143 11.18: ITT reserved, TTT ours).
    if conn.ping is None or pdu.word20 != conn.ping[0]:
        violation(conn, f"NOP-Out with TTT 0x{pdu.word20:08x} that we never sent")
    elif pdu.data != conn.ping[1] or not pdu.immediate:
        violation(conn, "NOP-Out echo differs from the ping (data or I bit)")
    else:
        log(conn, f"NOP-Out echo matches the ping (TTT 0x{pdu.word20:08x}, "
                  f"{len(pdu.data)} bytes)")
        conn.ping = None
    return None


def handle_logout(conn, pdu):
    reason = pdu.flags & 0x7F
    log(conn, f"Logout Request reason={reason}"
              f"{' (the target asked for it)' if conn.logout_requested else ''}")
    if conn.logout_requested and conn.writes:
        violation(conn, f"Logout before the drain: {len(conn.writes)} WRITE(s) "
                        f"still waiting for Data-Out")
    send_logout_response(conn, pdu.itt, STATE.args.time2wait)
    if not conn.logout_requested:
        finish_session(conn, "logged out")
    return "close"


def finish_session(conn, why):
    STATE.sessions_done += 1
    log(conn, f"session {why} ({STATE.sessions_done} of {STATE.args.sessions})")


# ---- Faults

def fault_due(is_read):
    if STATE.args.scenario not in COMMAND_FAULTS or \
            (STATE.fault_done and not STATE.args.repeat) or \
            STATE.data_cmds <= STATE.args.after:
        return False
    if STATE.args.scenario in READ_FAULTS and not is_read:
        return False
    if STATE.args.scenario in WRITE_FAULTS and is_read:
        return False
    STATE.fault_done = True
    STATE.fault_time = time.monotonic()
    STATE.faults += 1
    return True


def ignore_from_now(conn):
    conn.mode = "ignore"
    conn.ignore_since = time.monotonic()


def send_bad_read(conn, pdu, data):
    """read-*: Data-In that does not add up with its own GOOD status: part
    of the data (with no residual, or with a matching underflow one), a
    gap, an overlap, DataSNs out of order, or a SCSI Response whose
    ExpDataSN counts a Data-In that never came."""
    sc = STATE.args.scenario
    # At least four PDUs, whatever the READ's size: the lies need a middle.
    chunk_max = min(conn.initiator_max_recv_dsl, DATA_IN_CHUNK_MAX,
                    max(512, len(data) // 4 // 512 * 512))
    pieces = [(off, data[off:off + chunk_max])
              for off in range(0, len(data), chunk_max)]
    flags, residual, exp_data_sn = 0, 0, None
    if sc in ("read-short", "read-underflow"):
        pieces = pieces[:max(1, len(pieces) // 2)]
        missing = len(data) - sum(len(c) for _, c in pieces)
        if sc == "read-underflow":
            flags, residual = 0x02, missing
        what = (f"{len(pieces)} Data-In, {missing} of {len(data)} bytes missing, "
                f"then GOOD with " +
                (f"underflow residual {missing}" if residual else "no residual"))
    elif sc == "read-gap":
        gap = pieces.pop(1)
        what = f"Data-In skipping {len(gap[1])} bytes at offset {gap[0]}, then GOOD"
    elif sc == "read-overlap":
        pieces.insert(1, pieces[0])
        what = f"the Data-In at offset 0 ({len(pieces[0][1])} bytes) twice, then GOOD"
    elif sc == "read-expdatasn":
        exp_data_sn = len(pieces) + 1
        what = (f"{len(pieces)} Data-In, then a SCSI Response GOOD with "
                f"ExpDataSN {exp_data_sn}")
    sns = list(range(len(pieces)))
    if sc == "read-datasn":
        sns[1], sns[2] = sns[2], sns[1]
        what = f"{len(pieces)} Data-In in order with DataSN {sns[:4]}..., then GOOD"
    log(conn, f"FAULT: READ ITT 0x{pdu.itt:08x}: {what}")
    for i, (off, chunk) in enumerate(pieces):
        last = i == len(pieces) - 1 and exp_data_sn is None
        send_data_in(conn, pdu, off, chunk, sns[i], GOOD if last else None,
                     flags, residual)
    if exp_data_sn is not None:
        send_scsi_response(conn, pdu.itt, GOOD, exp_data_sn=exp_data_sn)


def inject_fault(conn, pdu, is_read):
    """Returns True when the command must not be answered here."""
    sc = STATE.args.scenario
    edtl = struct.unpack_from(">I", pdu.bhs, 20)[0]
    if sc in BAD_READS:
        status, sense, data = execute(conn, pdu.bhs[32:48], pdu.lun)
        if status != GOOD or len(data) != edtl or edtl < 2048:
            log(conn, "FAULT not injected: the READ is too short or failed")
            send_result(conn, pdu, status, sense, data)
        else:
            send_bad_read(conn, pdu, data)
        return True
    if sc in BAD_R2TS:
        conn.r2t_fault = sc             # continue_write() sends them
        return False
    if sc == "nop-flood":
        conn.mode = "flood"             # serve() floods, outside the lock
        conn.ignore_since = time.monotonic()
        return True
    if sc == "async-logout":
        log(conn, "FAULT: AsyncEvent 1 (logout requested within 3 s)")
        conn.logout_requested = True
        send_async(conn, 1, 0, 0, 3)
        return False
    if sc == "async-drop":
        log(conn, f"FAULT: AsyncEvent 2 (dropping the connection, "
                  f"Time2Wait {STATE.args.time2wait} s), then closing")
        send_async(conn, 2, conn.cid, STATE.args.time2wait, 0)
        shutdown_write(conn)
        ignore_from_now(conn)
        return True
    if sc == "nop-ping":
        conn.ping = (0x5EED0000 | STATE.next_ttt & 0xFFFF,
                     bytes(range(0x41, 0x41 + 37)))     # odd length: padding
        log(conn, f"FAULT: NOP-In ping TTT 0x{conn.ping[0]:08x} with 37 bytes")
        send_nop_in(conn, RESERVED_TAG, conn.ping[0], 0, conn.ping[1])
        return False
    if sc in ("bad-header-digest", "bad-data-digest"):
        if not (conn.header_digest if sc == "bad-header-digest" else conn.data_digest):
            log(conn, "FAULT not injected: that digest was not negotiated")
            return False
        conn.corrupt_next = "header" if sc == "bad-header-digest" else "data"
        return False
    if sc == "silent":
        log(conn, "FAULT: silent from now on (the TCP connection stays open)")
    elif sc == "bad-opcode":
        log(conn, f"FAULT: PDU with the unassigned opcode 0x{OP_UNASSIGNED:02x}")
        send_unassigned_opcode(conn)
    elif sc == "huge-data-segment":
        size = conn.initiator_max_recv_dsl + 4096
        log(conn, f"FAULT: Data-In with DataSegmentLength {size} > "
                  f"MaxRecvDataSegmentLength {conn.initiator_max_recv_dsl}")
        send_data_in(conn, pdu, 0, bytes(size), 0)
    elif sc == "data-in-overflow":
        log(conn, f"FAULT: Data-In at offset {edtl - 512} + 1024 past EDTL {edtl}")
        send_data_in(conn, pdu, edtl - 512, bytes(1024), 0)
    elif sc == "unknown-itt":
        stale = pdu.itt ^ 0x00FF0000        # same slot, other generation
        log(conn, f"FAULT: answer for ITT 0x{stale:08x} instead of 0x{pdu.itt:08x}")
        if is_read:
            send_data_in(conn, pdu, 0, bytes(512), 0, GOOD, itt=stale)
        else:
            send_scsi_response(conn, stale, GOOD)
    elif sc == "truncated-pdu":
        whole = frame(conn, make_bhs(OP_DATA_IN, 0, 0, 0, 4096, pdu.lun, pdu.itt,
                                     RESERVED_TAG, 0, conn.exp_cmd_sn,
                                     conn.max_cmd_sn_sent), bytes(4096))
        log(conn, f"FAULT: {len(whole) // 2} of {len(whole)} bytes of a Data-In, then close")
        conn.sock.sendall(whole[:len(whole) // 2])
        shutdown_write(conn)
    elif sc == "reject":
        log(conn, "FAULT: Reject (invalid PDU field) of a SCSI Command")
        send_reject(conn, 0x09, pdu)
    elif sc == "reject-nop":
        log(conn, "FAULT: holding this command's answer 2.5 s; NOP-Outs meanwhile "
                  "get a Reject")
        conn.held = (time.monotonic() + 2.5, pdu)
        return True
    ignore_from_now(conn)
    return True


def handle_scsi_command(conn, pdu, late=False):
    if not late:
        check_cmd_sn(conn, pdu)
    cdb = pdu.bhs[32:48]
    edtl = struct.unpack_from(">I", pdu.bhs, 20)[0]
    if STATE.args.log_commands and not late:
        log(conn, f"SCSI command 0x{cdb[0]:02x} ITT 0x{pdu.itt:08x} EDTL {edtl}")
    if STATE.args.scenario == "drop-command":
        STATE.faults += 1
        STATE.fault_time = time.monotonic()
        log(conn, f"FAULT: closing the connection instead of answering "
                  f"SCSI command 0x{cdb[0]:02x}")
        return "close"
    is_read, is_write = cdb[0] in READ_OPS, cdb[0] in WRITE_OPS
    if (is_read or is_write) and not late:
        STATE.data_cmds += 1
        if fault_due(is_read) and inject_fault(conn, pdu, is_read):
            return None
    if is_read and conn.ua_left > 0:
        conn.ua_left -= 1
        log(conn, f"UNIT ATTENTION 29/00 for READ ITT 0x{pdu.itt:08x} "
                  f"({conn.ua_left} more to come)")
        send_scsi_response(conn, pdu.itt, CHECK_CONDITION,
                           sense_fixed(UNIT_ATTENTION, 0x29, 0x00))
        return None
    if pdu.flags & 0x20:
        start_write(conn, pdu, edtl)
        return None
    status, sense, data = execute(conn, cdb, pdu.lun)
    send_result(conn, pdu, status, sense, data)
    return None


def handle_held_nop(conn, pdu):
    """reject-nop: while a command is held, keepalives get a Reject."""
    if pdu.itt != RESERVED_TAG:
        log(conn, f"Reject (invalid PDU field) of NOP-Out ITT 0x{pdu.itt:08x}")
        send_reject(conn, 0x09, pdu)
        return None
    return handle_nop_out(conn, pdu)


def handle_pdu(conn, pdu):
    if pdu.opcode == OP_LOGIN_REQ:
        return handle_login(conn, pdu)
    if not conn.logged_in:
        violation(conn, f"{OPCODE_NAMES.get(pdu.opcode, hex(pdu.opcode))} before login")
        return "close"
    if pdu.opcode == OP_SCSI_CMD:
        return handle_scsi_command(conn, pdu)
    if pdu.opcode == OP_DATA_OUT:
        return handle_data_out(conn, pdu)
    if pdu.opcode == OP_NOP_OUT:
        if conn.held:
            return handle_held_nop(conn, pdu)
        return handle_nop_out(conn, pdu)
    if pdu.opcode == OP_LOGOUT_REQ:
        check_cmd_sn(conn, pdu)
        return handle_logout(conn, pdu)
    log(conn, f"Reject (command not supported) of "
              f"{OPCODE_NAMES.get(pdu.opcode, hex(pdu.opcode))}")
    check_cmd_sn(conn, pdu)
    send_reject(conn, 0x05, pdu)
    return None


# ---- Connections

def shutdown_write(conn):
    try:
        conn.sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def shutdown_quietly(conn):
    try:
        conn.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def linger_close(conn):
    """Closes our side, then waits (briefly) for the initiator's close, so
    the last PDU is never lost to a reset."""
    shutdown_write(conn)
    conn.sock.settimeout(2)
    try:
        while conn.sock.recv(65536):
            pass
    except OSError:
        pass


def release_held(conn):
    _, pdu = conn.held
    conn.held = None
    log(conn, f"answering the held command ITT 0x{pdu.itt:08x}")
    handle_scsi_command(conn, pdu, late=True)


def ignore_pdu(conn, pdu):
    name = OPCODE_NAMES.get(pdu.opcode, hex(pdu.opcode))
    log(conn, f"ignoring {name} ITT 0x{pdu.itt:08x} (after the fault)")


def serve(conn):
    """One connection: PDUs handled one at a time until it closes."""
    while True:
        wait = 0.5
        if conn.held:
            wait = max(0.0, min(wait, conn.held[0] - time.monotonic()))
        readable, _, _ = select.select([conn.sock], [], [], wait)
        if conn.held and time.monotonic() >= conn.held[0]:
            with STATE.lock:
                release_held(conn)
        if not readable:
            continue
        pdu = recv_pdu(conn)
        if conn.mode == "ignore":
            ignore_pdu(conn, pdu)
            continue
        with STATE.lock:
            result = handle_pdu(conn, pdu)
        if conn.mode == "flood":
            flood_pings(conn)
            return
        if result == "close":
            linger_close(conn)
            return


def flood_pings(conn):
    """nop-flood: NOP-In pings (each asks for an echo) as fast as the
    socket takes them, and not one byte read: the initiator's answers pile
    up. Ends when the initiator closes the connection, or after
    --flood-seconds."""
    size = min(STATE.args.ping_size, conn.initiator_max_recv_dsl)
    count = 1 if size else 1024         # ~48 KiB of small pings per block
    block = memoryview(b"".join(
        nop_in_bytes(conn, RESERVED_TAG, 0x5EED0000 | i, 0, bytes([i & 0xFF]) * size)
        for i in range(count)))
    pdu_len = len(block) // count
    log(conn, f"FAULT: flooding NOP-In pings with {size} bytes of data, reading nothing")
    conn.sock.setblocking(False)
    start = time.monotonic()
    sent = pos = 0
    why = f"flood stopped after {STATE.args.flood_seconds:.0f} s"
    while time.monotonic() < start + STATE.args.flood_seconds:
        _, writable, _ = select.select([], [conn.sock], [], 0.2)
        if not writable:
            continue
        try:
            n = conn.sock.send(block[pos:])
        except BlockingIOError:
            continue
        except OSError:
            why = (f"initiator closed the connection "
                   f"{time.monotonic() - conn.ignore_since:.3f} s after the fault")
            break
        sent += n
        pos = (pos + n) % len(block)
    log(conn, f"{why}; {sent // pdu_len} pings ({sent} bytes) sent in "
              f"{time.monotonic() - start:.3f} s")
    shutdown_quietly(conn)


def connection_thread(sock, number):
    conn = Conn(sock, number)
    peer = sock.getpeername()
    since_fault = ""
    if STATE.fault_time is not None:
        since_fault = f", {time.monotonic() - STATE.fault_time:.3f} s after the fault"
    log(conn, f"accepted from {peer[0]}:{peer[1]}{since_fault}")
    try:
        serve(conn)
    except EOFError:
        if conn.ignore_since is not None:
            log(conn, f"initiator closed the connection "
                      f"{time.monotonic() - conn.ignore_since:.3f} s after the fault")
        else:
            log(conn, "initiator closed the connection")
    except OSError as e:
        log(conn, f"connection ended: {e.strerror or e}")
    finally:
        if conn.ping is not None:
            violation(conn, f"ping TTT 0x{conn.ping[0]:08x} was never echoed")
        with STATE.lock:
            if STATE.live.get(conn.isid) is conn:
                del STATE.live[conn.isid]
        sock.close()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("--scenario", choices=SCENARIOS, default="none")
    p.add_argument("--iqn", default="iqn.2025-01.org.iscsiroot:fake")
    p.add_argument("--lun", type=int, default=1, help="LUN number (< 256)")
    p.add_argument("--size-mib", type=int, default=8)
    p.add_argument("--block-size", type=int, default=512, choices=(512, 4096))
    p.add_argument("--after", type=int, default=2,
                   help="READ/WRITE commands served before the fault")
    p.add_argument("--chap-user")
    p.add_argument("--chap-secret", default="")
    p.add_argument("--challenge-len", type=int, default=16)
    p.add_argument("--challenge-encoding", choices=("hex", "base64"), default="hex")
    p.add_argument("--redirect-port", type=int)
    p.add_argument("--redirect-host", default="127.0.0.1",
                   help="TargetAddress host of the redirect ([v6] in brackets)")
    p.add_argument("--junk-keys", type=int, default=2000,
                   help="login-continue: unknown keys in the operational stage")
    p.add_argument("--junk-value-len", type=int, default=10)
    p.add_argument("--ua-count", type=int, default=1,
                   help="READs answered UNIT ATTENTION after each login")
    p.add_argument("--time2wait", type=int, default=1)
    p.add_argument("--repeat", action="store_true",
                   help="a command fault hits every command after --after")
    p.add_argument("--image", help="the LUN's contents (else --size-mib of zeros)")
    p.add_argument("--ping-size", type=int, default=0,
                   help="nop-flood: bytes of data in each ping")
    p.add_argument("--flood-seconds", type=float, default=20)
    p.add_argument("--cap-block-size", type=int, default=512,
                   help="bad-capacity: the block size READ CAPACITY reports")
    p.add_argument("--cap-last-lba", type=int, default=16383,
                   help="bad-capacity: the last LBA READ CAPACITY reports")
    p.add_argument("--log-commands", action="store_true",
                   help="log the opcode of every SCSI command")
    p.add_argument("--sessions", type=int, default=1,
                   help="exit after this many sessions ended by the initiator")
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()
    args.timeout = min(args.timeout, 60)
    if args.scenario == "redirect" and not args.redirect_port:
        p.error("redirect needs --redirect-port")
    if args.scenario in ("long-challenge", "chap-list-reject", "chap-list-drop") and \
            not args.chap_user:
        p.error(f"{args.scenario} needs --chap-user")
    return args


def main():
    global STATE
    args = parse_args()
    STATE = State(args)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(8)
    listener.settimeout(0.2)
    log(None, f"scenario {args.scenario}, target {args.iqn}, port {args.port}")
    print("listening", flush=True)
    deadline = time.monotonic() + args.timeout
    while STATE.sessions_done < args.sessions:
        if time.monotonic() >= deadline:
            log(None, f"timeout after {args.timeout:.0f} s "
                      f"({STATE.sessions_done} of {args.sessions} sessions ended)")
            sys.exit(3)
        try:
            sock, _ = listener.accept()
        except socket.timeout:
            continue
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        STATE.conn_count += 1
        threading.Thread(target=connection_thread, args=(sock, STATE.conn_count),
                         daemon=True).start()
    time.sleep(0.2)     # let the last connection log its end
    log(None, "done")


if __name__ == "__main__":
    main()
