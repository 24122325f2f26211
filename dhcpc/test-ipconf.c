/* SPDX-License-Identifier: MIT */
/* ip= in the kernel's nfsroot syntax and dracut's forms; BOOTIF=. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "dhcpc.h"
#include "test.h"

static const char *ntoa(struct in_addr a)
{
	return inet_ntoa(a);
}

static void test_short_forms(void)
{
	struct dhcpc_ipconf ip;

	CHECK_EQ(dhcpc_ip_parse("dhcp", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_DHCP);
	CHECK_EQ(dhcpc_ip_parse("ip=on", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_DHCP);
	CHECK_EQ(dhcpc_ip_parse("any", &ip), 0);
	CHECK_EQ(dhcpc_ip_parse("", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_DHCP);
	CHECK_EQ(dhcpc_ip_parse("off", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_OFF);
	CHECK_EQ(dhcpc_ip_parse("none", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_OFF);
	CHECK_EQ(dhcpc_ip_parse("dhcp6", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_DHCP6);
	CHECK_EQ(dhcpc_ip_parse("auto6", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_AUTO6);
	CHECK_EQ(dhcpc_ip_parse("either6", &ip), -EOPNOTSUPP);
	CHECK_EQ(dhcpc_ip_parse("link6", &ip), -EOPNOTSUPP);
	CHECK_EQ(dhcpc_ip_parse("bogus", &ip), -EINVAL);
}

static void test_kernel_form(void)
{
	struct dhcpc_ipconf ip;

	CHECK_EQ(dhcpc_ip_parse("10.0.0.5:10.0.0.1:10.0.0.254:255.255.255.0:"
				"box:eth1:off:10.0.0.53:10.0.0.54:10.0.0.123",
				&ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_STATIC);
	CHECK_STR(ntoa(ip.addr), "10.0.0.5");
	CHECK_STR(ntoa(ip.server), "10.0.0.1");
	CHECK_STR(ntoa(ip.gateway), "10.0.0.254");
	CHECK_STR(ntoa(ip.netmask), "255.255.255.0");
	CHECK_STR(ip.hostname, "box");
	CHECK_STR(ip.device, "eth1");
	CHECK_STR(ntoa(ip.dns[0]), "10.0.0.53");
	CHECK_STR(ntoa(ip.dns[1]), "10.0.0.54");
	CHECK_STR(ntoa(ip.ntp), "10.0.0.123");

	/* autoconf left out with an address: static, as the kernel does */
	CHECK_EQ(dhcpc_ip_parse("192.168.7.2::192.168.7.1:255.255.255.0", &ip),
		 0);
	CHECK_EQ(ip.mode, DHCPC_IP_STATIC);
	CHECK_EQ(ip.device[0], 0);
	/* only a device, DHCP on it */
	CHECK_EQ(dhcpc_ip_parse(":::::eth0:dhcp", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_DHCP);
	CHECK_STR(ip.device, "eth0");
	CHECK_EQ(ip.addr.s_addr, 0);
	/* an empty dns0 with a dns1 */
	CHECK_EQ(dhcpc_ip_parse(":::::eth0:dhcp::10.9.9.9", &ip), 0);
	CHECK_STR(ntoa(ip.dns[1]), "10.9.9.9");
	/* an address with DHCP: the address to ask for */
	CHECK_EQ(dhcpc_ip_parse("10.1.1.9:::::eth0:dhcp", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_DHCP);
	CHECK_STR(ntoa(ip.addr), "10.1.1.9");
	/* static without an address makes no sense */
	CHECK_EQ(dhcpc_ip_parse(":::::eth0:none", &ip), -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("300.1.1.1::::::off", &ip), -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("[fe80::1]::::::bogus", &ip), -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("1.2.3.4:::::averyveryverylongname0:off", &ip),
		 -EINVAL);
}

static const char *ntop6(const struct in6_addr *a)
{
	static char buf[INET6_ADDRSTRLEN];

	return inet_ntop(AF_INET6, a, buf, sizeof(buf));
}

/* dracut's [v6addr]:[peer]:[gw]:prefix:hostname:iface:none[:mtu[:mac]] */
static void test_v6_static(void)
{
	struct dhcpc_ipconf ip;

	CHECK_EQ(dhcpc_ip_parse("[2001:db8::5]::[2001:db8::1]:64:box:eth0:none",
				&ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_STATIC6);
	CHECK_STR(ntop6(&ip.addr6), "2001:db8::5");
	CHECK_STR(ntop6(&ip.gateway6), "2001:db8::1");
	CHECK_EQ(ip.prefix6, 64);
	CHECK_STR(ip.hostname, "box");
	CHECK_STR(ip.device, "eth0");
	CHECK_EQ(ip.addr.s_addr, 0);
	/* the peer, no gateway, the default prefix, dracut's tail */
	CHECK_EQ(dhcpc_ip_parse("ip=[fd00::2]:[fd00::1]:::h:enp1s0:none:9000:"
				"52:54:00:12:34:56", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_STATIC6);
	CHECK_EQ(ip.prefix6, 64);
	CHECK(IN6_IS_ADDR_UNSPECIFIED(&ip.gateway6));
	CHECK_EQ(ip.mtu, 9000);
	CHECK(ip.have_mac);
	CHECK_EQ(ip.mac[5], 0x56);
	/* autoconf left out: static */
	CHECK_EQ(dhcpc_ip_parse("[fd00::2]:::120", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_STATIC6);
	CHECK_EQ(ip.prefix6, 120);
	/* a device with dhcp6 in the long form */
	CHECK_EQ(dhcpc_ip_parse(":::::eth1:dhcp6", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_DHCP6);
	CHECK_STR(ip.device, "eth1");
	/* wrong: prefix 0 or 129, no brackets, v4 fields, DHCPv4 with v6 */
	CHECK_EQ(dhcpc_ip_parse("[fd00::2]:::0::eth0:none", &ip), -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("[fd00::2]:::129::eth0:none", &ip), -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("[fd00::2::eth0:none", &ip), -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("[fd00::2]::10.0.0.1:64::eth0:none", &ip),
		 -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("[fd00::2]:::::eth0:dhcp", &ip), -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("[1.2.3.4]::::::none", &ip), -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("[::]:::64::eth0:none", &ip), -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("10.0.0.5:::::eth0:dhcp6", &ip), -EINVAL);
	CHECK_EQ(ip.mode, DHCPC_IP_DHCP); /* zeroed on error */
}

static void test_dracut_forms(void)
{
	struct dhcpc_ipconf ip;

	CHECK_EQ(dhcpc_ip_parse("eth2:dhcp", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_DHCP);
	CHECK_STR(ip.device, "eth2");
	CHECK_EQ(dhcpc_ip_parse("enp1s0:dhcp:9000", &ip), 0);
	CHECK_EQ(ip.mtu, 9000);
	CHECK_EQ(dhcpc_ip_parse("enp1s0:on:1400:52:54:00:12:34:56", &ip), 0);
	CHECK_EQ(ip.mtu, 1400);
	CHECK(ip.have_mac);
	CHECK_EQ(ip.mac[0], 0x52);
	CHECK_EQ(ip.mac[5], 0x56);
	CHECK_EQ(dhcpc_ip_parse("eth0:dhcp6", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_DHCP6);
	CHECK_STR(ip.device, "eth0");
	CHECK_EQ(dhcpc_ip_parse("eth0:auto6:1400", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_AUTO6);
	CHECK_EQ(ip.mtu, 1400);
	CHECK_EQ(dhcpc_ip_parse("eth0:either6", &ip), -EOPNOTSUPP);
	CHECK_EQ(dhcpc_ip_parse("eth0:none", &ip), -EINVAL);
	CHECK_EQ(dhcpc_ip_parse("eth0:dhcp:12", &ip), -EINVAL);

	CHECK_EQ(dhcpc_ip_parse("10.0.0.5::10.0.0.1:255.255.0.0:h:eth0:none:"
				"1500:aa:bb:cc:dd:ee:ff", &ip), 0);
	CHECK_EQ(ip.mode, DHCPC_IP_STATIC);
	CHECK_EQ(ip.mtu, 1500);
	CHECK(ip.have_mac);
	CHECK_EQ(ip.mac[5], 0xff);
	CHECK_EQ(dhcpc_ip_parse("10.0.0.5::10.0.0.1:255.255.0.0:h:eth0:none::"
				"aa:bb:cc:dd:ee:ff", &ip), 0);
	CHECK_EQ(ip.mtu, 0);
	CHECK(ip.have_mac);
}

static void test_bootif(void)
{
	uint8_t mac[6];

	CHECK_EQ(dhcpc_bootif_parse("01-52-54-00-ab-cd-ef", mac), 0);
	CHECK_EQ(mac[0], 0x52);
	CHECK_EQ(mac[5], 0xef);
	CHECK_EQ(dhcpc_bootif_parse("52:54:00:AB:CD:0F", mac), 0);
	CHECK_EQ(mac[3], 0xab);
	CHECK_EQ(mac[5], 0x0f);
	CHECK_EQ(dhcpc_bootif_parse("52-54-00-ab-cd-ef", mac), 0);
	CHECK_EQ(dhcpc_bootif_parse("06-52-54-00-ab-cd-ef", mac), -EINVAL);
	CHECK_EQ(dhcpc_bootif_parse("01-52-54-00-ab", mac), -EINVAL);
	CHECK_EQ(dhcpc_bootif_parse("01-52-54-00-ab-cd-efx", mac), -EINVAL);
	CHECK_EQ(dhcpc_bootif_parse("", mac), -EINVAL);
}

static void test_ifname(void)
{
	char name[IFNAMSIZ];
	uint8_t mac[6];

	CHECK_EQ(dhcpc_ifname_parse("boot0:52:54:00:ab:cd:ef", name, mac), 0);
	CHECK_STR(name, "boot0");
	CHECK_EQ(mac[5], 0xef);
	CHECK_EQ(dhcpc_ifname_parse(":52:54:00:ab:cd:ef", name, mac), -EINVAL);
	CHECK_EQ(dhcpc_ifname_parse("boot0", name, mac), -EINVAL);
	CHECK_EQ(dhcpc_ifname_parse("boot0:52-54-00-ab-cd-ef", name, mac),
		 -EINVAL);
	CHECK_EQ(dhcpc_ifname_parse("averyveryverylongname:52:54:00:ab:cd:ef",
				    name, mac), -EINVAL);
}

int main(void)
{
	test_short_forms();
	test_kernel_form();
	test_dracut_forms();
	test_v6_static();
	test_bootif();
	test_ifname();
	return test_report("test-dhcpc-ipconf");
}
