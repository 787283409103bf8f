#!/usr/bin/env bash
# A Pi stand-in's own host on the network: a namespace with its own address, joined to this
# machine by a veth pair. The shared one's host side, 10.250.0.1, is where the registries listen
# (Pi side 10.250.0.2); the faults one (LUCID_STANDIN=faults) routes to it through its own pair.
source "$(dirname "$0")/lib.sh"

PI_NS="/var/run/netns/$PI_NETNS"
in_pi() { nsenter --net="$PI_NS" "$@"; }

apt_install iproute2 iputils-ping
if [[ ! -e "$PI_NS" ]]; then ip netns add "$PI_NETNS" || die "Pi link: ip netns add $PI_NETNS failed"; fi
if ! ip link show "$PI_LINK" >/dev/null 2>&1; then
  ip link add "$PI_LINK" type veth peer name eth0 netns "$PI_NETNS" \
    || die "Pi link: cannot create the veth pair $PI_LINK"
fi
grep -q "$PI_LINK_HOST_IP/" <<<"$(ip addr show "$PI_LINK")" || ip addr add "$PI_LINK_HOST_IP/30" dev "$PI_LINK"
ip link set "$PI_LINK" up
grep -q "$PI_IP/" <<<"$(in_pi ip addr show eth0)" || in_pi ip addr add "$PI_IP/30" dev eth0
in_pi ip link set eth0 up
in_pi ip link set lo up
if [[ "$PI_LINK_HOST_IP" != "$PI_HOST_IP" ]]; then
  in_pi ip route replace "$PI_HOST_IP/32" via "$PI_LINK_HOST_IP" dev eth0
fi
wait_until 10 "Pi link" ping -c1 -W1 "$PI_IP" || die "Pi link: $PI_IP does not answer over $PI_LINK"
