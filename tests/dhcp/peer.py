#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A DHCP test peer that answers with malformed replies, which no real
server sends: truncated options, bad lengths, overload loops, a missing
message type, wrong xid/chaddr, broken IP/UDP headers, ACKs to DISCOVER
without a valid Rapid Commit. In mode "good" it
then sends a valid OFFER/ACK (itself using option overload and an option
split over two instances, RFC 3396), so the client must have ignored all
the bad ones and still bound. In mode "bad" it sends only bad ones.

usage: peer.py IFACE MODE SERVER_IP CLIENT_IP   (runs at most 60 s)
"""
import socket
import struct
import sys
import time

IFACE, MODE, SERVER, CLIENT = sys.argv[1:5]
SIP = socket.inet_aton(SERVER)
CIP = socket.inet_aton(CLIENT)
COOKIE = b"\x63\x82\x53\x63"


def opt(code, data):
    return bytes([code, len(data)]) + data


def header(xid, chaddr, yiaddr=CIP, op=2, sname=b"", file=b""):
    return (struct.pack("!BBBBIHH", op, 1, 6, 0, xid, 0, 0)
            + bytes(4) + yiaddr + SIP + bytes(4)
            + chaddr.ljust(16, b"\0")
            + sname.ljust(64, b"\0") + file.ljust(128, b"\0"))


def good_options(mtype):
    # Option 12 goes in file via overload; the root-path is split in
    # two instances; 121, 119 and 26 are malformed and must be ignored
    # one by one, without losing the rest of the lease.
    return (opt(53, bytes([mtype])) + opt(54, SIP)
            + opt(1, socket.inet_aton("255.255.255.0"))
            + opt(3, SIP) + opt(51, struct.pack("!I", 600))
            + opt(52, b"\x01")
            + opt(17, b"iscsi:10.83.0.1::::") + opt(17, b"iqn.2024-01.peer:x")
            + opt(121, bytes([40, 10, 0, 0, 1, 10, 83, 0, 1]))
            + opt(119, b"\xc0\x00") + opt(26, b"\x05")
            + b"\xff")


def good(xid, chaddr, mtype):
    file = opt(12, b"peerhost") + b"\xff"
    return header(xid, chaddr, file=file) + COOKIE + good_options(mtype)


def rapid_acks(xid, chaddr, mtype):
    # Answers to DISCOVER that are ACKs: without Rapid Commit (RFC 4039),
    # or with an option 80 that carries a value; both must be dropped.
    if mtype != 2:
        return {}
    ack = opt(53, b"\x05") + opt(54, SIP) + opt(51, struct.pack("!I", 600))
    return {
        "ACK to DISCOVER": header(xid, chaddr) + COOKIE + ack + b"\xff",
        "Rapid Commit with a value": header(xid, chaddr) + COOKIE + ack
        + opt(80, b"\x01") + b"\xff",
    }


def bad_payloads(xid, chaddr, mtype):
    t = opt(53, bytes([mtype])) + opt(54, SIP)
    other = bytes([0x02, 0, 0, 0, 0, 1])
    return rapid_acks(xid, chaddr, mtype) | {
        "truncated option": header(xid, chaddr) + COOKIE + t
        + bytes([17, 200]) + b"iscsi",
        "length byte missing": header(xid, chaddr) + COOKIE + t + b"\x11",
        "missing type": header(xid, chaddr) + COOKIE + opt(54, SIP) + b"\xff",
        "type of length 2": header(xid, chaddr) + COOKIE
        + opt(53, bytes([mtype, mtype])) + opt(54, SIP) + b"\xff",
        "unknown type": header(xid, chaddr) + COOKIE + opt(53, b"\x63")
        + opt(54, SIP) + b"\xff",
        # option 52 again in file and sname, as if to send the parser
        # round once more; no message type outside the options field
        "overload loop": header(
            xid, chaddr, sname=opt(52, b"\x03") * 21,
            file=opt(52, b"\x03") * 42) + COOKIE + opt(52, b"\x03")
        + opt(54, SIP),
        "overload, truncated in file": header(
            xid, chaddr, file=bytes([12, 250]) + b"x" * 126) + COOKIE
        + t + opt(52, b"\x01") + b"\xff",
        "overload, no type anywhere": header(
            xid, chaddr, file=opt(54, SIP) + b"\xff") + COOKIE
        + opt(52, b"\x01") + b"\xff",
        "wrong xid": header(xid ^ 1, chaddr) + COOKIE + t + b"\xff",
        "wrong chaddr": header(xid, other) + COOKIE + t + b"\xff",
        "BOOTREQUEST": header(xid, chaddr, op=1) + COOKIE + t + b"\xff",
        "short": header(xid, chaddr)[:100],
        "no cookie": header(xid, chaddr) + b"\0\0\0\0" + t + b"\xff",
        "yiaddr 0": header(xid, chaddr, yiaddr=bytes(4)) + COOKIE + t
        + b"\xff",
        "no server id": header(xid, chaddr) + COOKIE
        + opt(53, bytes([mtype])) + b"\xff",
        "NAK of another xid": header(xid + 7, chaddr) + COOKIE
        + opt(53, b"\x06") + opt(54, SIP) + b"\xff",
        "empty": b"",
    }


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_udp(payload, ip_len_delta=0, udp_len_delta=0, frag=0, bad_csum=False):
    udp = struct.pack("!HHHH", 67, 68, 8 + len(payload) + udp_len_delta, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0,
                     20 + len(udp) + len(payload) + ip_len_delta, 0, frag,
                     64, 17, 0, SIP, b"\xff\xff\xff\xff")
    csum = checksum(ip) ^ (1 if bad_csum else 0)
    ip = ip[:10] + struct.pack("!H", csum) + ip[12:]
    return ip + udp + payload


def raw_frames(xid, chaddr, mtype):
    p = good(xid, chaddr, mtype)
    return {
        "IP header checksum": ip_udp(p, bad_csum=True),
        "IP length past frame": ip_udp(p, ip_len_delta=400),
        "UDP length past IP": ip_udp(p, udp_len_delta=300),
        "UDP length under 8": ip_udp(p, udp_len_delta=-(len(p) + 4)),
        "fragment": ip_udp(p, frag=0x2000),
        "IP header only": ip_udp(p)[:20],
    }


def send_all(udp, raw, xid, chaddr, mtype):
    for name, p in bad_payloads(xid, chaddr, mtype).items():
        udp.sendto(p, ("255.255.255.255", 68))
        print("sent bad: %s" % name, flush=True)
    for name, frame in raw_frames(xid, chaddr, mtype).items():
        raw.sendto(frame, (IFACE, 0x0800, 0, 0, b"\xff" * 6))
        print("sent bad frame: %s" % name, flush=True)
    if MODE == "good":
        time.sleep(0.05)  # let the bad ones arrive first
        udp.sendto(good(xid, chaddr, mtype), ("255.255.255.255", 68))
        print("sent good type %d" % mtype, flush=True)


def main():
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                   IFACE.encode())
    udp.bind(("0.0.0.0", 67))
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM)
    udp.settimeout(1.0)
    deadline = time.time() + 60
    print("ready", flush=True)
    while time.time() < deadline:
        try:
            data, _ = udp.recvfrom(4096)
        except socket.timeout:
            continue
        if len(data) < 240 or data[0] != 1:
            continue
        xid = struct.unpack("!I", data[4:8])[0]
        chaddr = data[28:34]
        mtype = 0
        i = 240
        while i + 1 < len(data) and data[i] != 255:
            if data[i] == 0:
                i += 1
                continue
            if data[i] == 53:
                mtype = data[i + 2]
            i += 2 + data[i + 1]
        if mtype == 1:
            send_all(udp, raw, xid, chaddr, 2)
        elif mtype == 3:
            send_all(udp, raw, xid, chaddr, 5)


main()
