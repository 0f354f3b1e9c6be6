"""Which push endpoints the server may store and which addresses it may connect to (issue 9 §4)."""
import socket

import pytest

from models.subscriptions import DEFAULT_PUSH_HOSTS, host_is_allowed, is_push_service_endpoint, push_hosts
from web.push_network import AddressRefused, checked_addresses, is_public, push_session

REAL_ENDPOINTS = [
    "https://fcm.googleapis.com/fcm/send/dXk2abc:APA91bH",
    "https://android.googleapis.com/gcm/send/abc",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk",
    "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAD",
    "https://web.push.apple.com/QGuQyavXutnMH",
    "https://FCM.googleapis.com:443/fcm/send/abc",
]

HOSTILE_ENDPOINTS = [
    "https://127.0.0.1:5199/x", "https://127.0.0.1/x", "https://[::1]/x", "https://[::ffff:127.0.0.1]/x",
    "https://2130706433/x", "https://0x7f000001/x", "https://0177.0.0.1/x", "https://127.1/x",
    "https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/x", "https://10.0.0.1/x",
    "https://localhost/x", "https://metadata.google.internal/x",
    "https://evilfcm.googleapis.com.attacker/x", "https://fcm.googleapis.com.attacker.example/x",
    "https://evilfcm.googleapis.com/x", "https://googleapis.com/x", "https://attacker.example/fcm.googleapis.com",
    "https://fcm.googleapis.com@127.0.0.1/x", "https://user:secret@fcm.googleapis.com/x",
    "https://fcm.googleapis.com:8443/x", "https://fcm.googleapis.com:0/x", "https://fcm.googleapis.com:99999/x",
    "http://fcm.googleapis.com/x", "https://fcm.googleapis.com./x", "https://fcm.googleapis.com\\@127.0.0.1/x",
    "https://127.0.0.1\t.fcm.googleapis.com/x", "https://fcm.googleapis.com\n.attacker/x",
    "https://fcm%2egoogleapis.com/x", "https://fcm.googleapis.com%00.attacker/x", "https://xn--fcm-.googleapis.com/x",
    "https://fcm.googleapis.com.1/x", "https://[::1/x", "https://fcm.googleapis.com:/x\x7f", "https:///x", "",
]


@pytest.mark.parametrize("endpoint", REAL_ENDPOINTS)
def test_push_service_endpoint_of_each_browser_is_accepted(endpoint):
    assert is_push_service_endpoint(endpoint, DEFAULT_PUSH_HOSTS)


@pytest.mark.parametrize("endpoint", HOSTILE_ENDPOINTS)
def test_push_service_endpoint_refuses_every_other_address(endpoint):
    assert not is_push_service_endpoint(endpoint, DEFAULT_PUSH_HOSTS)


def test_push_service_endpoint_refuses_ip_literals_even_when_listed_and_insecure_is_allowed():
    for host in ("127.0.0.1", "2130706433", "0x7f000001", "::1"):
        assert not host_is_allowed(host, [host])
    assert not is_push_service_endpoint("http://127.0.0.1:5199/x", ["127.0.0.1"], allow_insecure=True)
    assert is_push_service_endpoint("http://localhost:5199/x", ["localhost"], allow_insecure=True)


def test_push_hosts_reads_a_list_or_a_comma_separated_setting():
    assert push_hosts(" FCM.googleapis.com, .push.apple.com  notify.windows.com,,") == (
        "fcm.googleapis.com", "push.apple.com", "notify.windows.com")
    assert push_hosts(["push.services.mozilla.com"]) == ("push.services.mozilla.com",)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "255.255.255.255", "240.0.0.1", "192.0.2.1", "::1", "::", "fe80::1", "fe80::1%eth0",
    "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "2002:a00:1::1",
    "64:ff9b::7f00:1", "not an address"])
def test_address_that_is_not_public_is_refused(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["142.250.179.170", "2a00:1450:400e:80e::200a", "2002:8efa:b3aa::1"])
def test_public_address_is_allowed(address):
    assert is_public(address)


def fake_dns(monkeypatch, answers):
    """socket.getaddrinfo answering each name with the next list of addresses from `answers`."""
    calls = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        calls.append(host)
        addresses = answers[min(len(calls), len(answers)) - 1]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def test_a_name_with_one_private_address_is_refused_as_a_whole(monkeypatch):
    fake_dns(monkeypatch, [["142.250.179.170", "127.0.0.1"]])
    with pytest.raises(AddressRefused):
        checked_addresses("fcm.googleapis.com", 443, DEFAULT_PUSH_HOSTS, allow_private=False)


def test_a_host_off_the_allow_list_is_not_even_resolved(monkeypatch):
    calls = fake_dns(monkeypatch, [["142.250.179.170"]])
    with pytest.raises(AddressRefused):
        checked_addresses("attacker.example", 443, DEFAULT_PUSH_HOSTS, allow_private=False)
    assert calls == []


def test_public_addresses_are_returned_to_connect_to(monkeypatch):
    fake_dns(monkeypatch, [["142.250.179.170", "2a00:1450:400e:80e::200a"]])
    found = checked_addresses("fcm.googleapis.com", 443, DEFAULT_PUSH_HOSTS, allow_private=False)
    assert [sockaddr[0] for *_, sockaddr in found] == ["142.250.179.170", "2a00:1450:400e:80e::200a"]


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_push_session_refuses_to_connect_to_a_private_address_of_an_allowed_host(monkeypatch, scheme):
    calls = fake_dns(monkeypatch, [["10.0.0.7"]])
    connects = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connects.append(address))
    with push_session(DEFAULT_PUSH_HOSTS) as http, pytest.raises(AddressRefused):
        http.post(f"{scheme}://fcm.googleapis.com/fcm/send/x", data=b"", timeout=1)
    assert calls == ["fcm.googleapis.com"] and connects == []
