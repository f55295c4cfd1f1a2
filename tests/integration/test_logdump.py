"""`logdump IN [OUT]` (logging.md 6, F-LOG-15): interim records while a
tunnel relays, each covering the bytes since the previous record, with an
empty %T; the connection's own record still ends it."""

import socket

from conftest import (MiB, connect, data_chunks, free_port, recv_stream,
                      send_stream, split_records, wait_until)

FIELDS = ("port", "err", "in", "out", "text")
FORMAT = 'logformat "L%p|%E|%I|%O|%T"\n'


def config(log, port, target, dump):
    return ("log %s\n%sinternal 127.0.0.1\n%stcppm %d 127.0.0.1 %d\n"
            % (log, FORMAT, dump, port, target))


def records(log, port):
    """The access records of the service (not its start message)."""
    return [r for r in split_records(log, FIELDS)
            if r["port"] == str(port) and "Accepting" not in r["text"]]


def wait_total(log, port, key, total):
    """The records of the connection once their `key` bytes add up to
    total."""
    return wait_until(
        lambda: (lambda rs: rs if sum(int(r[key]) for r in rs) == total
                 else None)(records(log, port)),
        timeout=20, what=lambda: "records adding up to %d in:\n%s"
        % (total, log.read_text() if log.exists() else "-"))


def test_download_interim_records(proxy, tmp_path, source_server):
    """8 MiB from the server with `logdump 1000000`: every record but the
    last covers more than 1,000,000 bytes from the server (it was written
    when the count passed the threshold), they are code 0 with an empty
    text, and together they count every byte exactly once."""
    total = 8 * MiB
    src = source_server(total)
    port = free_port()
    log = tmp_path / "a.log"
    proxy(config(log, port, src.port, "logdump 1000000\n"),
          wait_ports=[port])
    with connect(port, timeout=30) as s:
        n, _ = recv_stream(s)
    assert n == total
    rs = wait_total(log, port, "in", total)
    assert len(rs) >= 3, rs
    for r in rs[:-1]:
        assert int(r["in"]) > 1000000, rs
        assert r["err"] == "00000" and r["text"] == "", rs


def test_upload_interim_records(proxy, tmp_path, sink_server):
    """`logdump 0 500000`: uploads are cut into records by the bytes from
    the client; downloads (none here) do not trigger any."""
    total = 4 * MiB
    port = free_port()
    log = tmp_path / "a.log"
    proxy(config(log, port, sink_server.port, "logdump 0 500000\n"),
          wait_ports=[port])
    with connect(port, timeout=30) as s:
        send_stream(s, data_chunks(total))
        s.shutdown(socket.SHUT_WR)
        s.settimeout(30)
        while s.recv(65536):
            pass
    rs = wait_total(log, port, "out", total)
    assert len(rs) >= 3, rs
    for r in rs[:-1]:
        assert int(r["out"]) > 500000, rs
        assert r["in"] == "0", rs


def test_no_logdump_one_record(proxy, tmp_path, source_server):
    """Without logdump (or `logdump 0 0`) a connection has one record."""
    total = 4 * MiB
    src = source_server(total)
    port = free_port()
    log = tmp_path / "a.log"
    proxy(config(log, port, src.port, "logdump 0 0\n"), wait_ports=[port])
    with connect(port, timeout=30) as s:
        n, _ = recv_stream(s)
    assert n == total
    rs = wait_total(log, port, "in", total)
    assert len(rs) == 1, rs
