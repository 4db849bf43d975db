#!/usr/bin/env python3
"""Sends one ICMP (or ICMPv6) echo request and waits for the matching reply.

Usage: icmp_echo.py ADDRESS TIMEOUT_MS
Prints one JSON line {"ok": bool, "detail": str, "elapsedMs": int}; exit status 0 when answered.
The lab runs it inside a lab namespace with `ip netns exec`, because iputils ping is not installed
and Node.js has no raw sockets. Needs CAP_NET_RAW (the lab runs as root).
"""
import errno
import ipaddress
import json
import os
import socket
import struct
import sys
import time

ECHO_REQUEST = {4: 8, 6: 128}
ECHO_REPLY = {4: 0, 6: 129}


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def main() -> int:
    address, timeout_ms = sys.argv[1], int(sys.argv[2])
    family = ipaddress.ip_address(address).version
    if family == 4:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    else:
        # The kernel fills in the ICMPv6 checksum (it needs the pseudo-header).
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    ident = os.getpid() & 0xFFFF
    payload = b"flockguard-lab"
    header = struct.pack("!BBHHH", ECHO_REQUEST[family], 0, 0, ident, 1)
    csum = checksum(header + payload) if family == 4 else 0
    packet = struct.pack("!BBHHH", ECHO_REQUEST[family], 0, csum, ident, 1) + payload
    started = time.monotonic()
    deadline = started + timeout_ms / 1000
    try:
        sock.sendto(packet, (address, 0))
    except OSError as err:
        print(json.dumps({"ok": False, "detail": f"icmp {address}: {errno.errorcode.get(err.errno, err.strerror)}",
                          "elapsedMs": 0}))
        return 1
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            print(json.dumps({"ok": False, "detail": f"icmp {address}: no echo reply within {timeout_ms} ms",
                              "elapsedMs": int((time.monotonic() - started) * 1000)}))
            return 1
        sock.settimeout(remaining)
        try:
            data, peer = sock.recvfrom(2048)
        except socket.timeout:
            continue
        # IPv4 raw sockets deliver the IP header too; IPv6 raw sockets do not.
        icmp = data[(data[0] & 0x0F) * 4:] if family == 4 else data
        if len(icmp) < 8:
            continue
        kind, _code, _csum, rid, _seq = struct.unpack("!BBHHH", icmp[:8])
        if kind == ECHO_REPLY[family] and rid == ident:
            elapsed = int((time.monotonic() - started) * 1000)
            print(json.dumps({"ok": True, "detail": f"icmp {address}: echo reply from {peer[0]}", "elapsedMs": elapsed}))
            return 0


if __name__ == "__main__":
    sys.exit(main())
