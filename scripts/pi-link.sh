#!/usr/bin/env bash
# The Pi stand-in's own host on the network: a namespace with its own address, joined to this
# machine by a veth pair (host side 10.250.0.1, where the registry listens; Pi side 10.250.0.2).
source "$(dirname "$0")/lib.sh"

PI_NS="/var/run/netns/$PI_NETNS"
in_pi() { nsenter --net="$PI_NS" "$@"; }

apt_install iproute2 iputils-ping
if [[ ! -e "$PI_NS" ]]; then ip netns add "$PI_NETNS" || die "Pi link: ip netns add $PI_NETNS failed"; fi
if ! ip link show lucid-pi0 >/dev/null 2>&1; then
  ip link add lucid-pi0 type veth peer name eth0 netns "$PI_NETNS" \
    || die "Pi link: cannot create the veth pair lucid-pi0"
fi
grep -q "$PI_HOST_IP/" <<<"$(ip addr show lucid-pi0)" || ip addr add "$PI_HOST_IP/30" dev lucid-pi0
ip link set lucid-pi0 up
grep -q "$PI_IP/" <<<"$(in_pi ip addr show eth0)" || in_pi ip addr add "$PI_IP/30" dev eth0
in_pi ip link set eth0 up
in_pi ip link set lo up
wait_until 10 "Pi link" ping -c1 -W1 "$PI_IP" || die "Pi link: $PI_IP does not answer over lucid-pi0"
