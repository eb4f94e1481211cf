/* test_common_addr.c: the address checks every server makes (HOST:PORT,
 * loopback, --cell lists) and the percent-encoding that every URL built from
 * a name goes through: what a user writes, and what must be refused. */
#include "testlib.h"

#include <stdlib.h>

#include "cellcommon.h"

static void test_url_escape(void **state)
{
	(void)state;
	char buf[64] = "agent=";
	cc_url_escape(buf, sizeof(buf), "http://10.0.0.7:7301/a b");
	assert_string_equal(buf, "agent=http%3A%2F%2F10.0.0.7%3A7301%2Fa%20b");
	char plain[32] = "";
	cc_url_escape(plain, sizeof(plain), "Job-1.x_y~z");
	assert_string_equal(plain, "Job-1.x_y~z"); /* unreserved: as is */
	/* never past the buffer, and never half an escape: 8 bytes hold two
	 * escapes and the NUL, not a third */
	char tiny[8] = "";
	cc_url_escape(tiny, sizeof(tiny), "////////");
	assert_string_equal(tiny, "%2F%2F");
	char bytes[16] = "";
	cc_url_escape(bytes, sizeof(bytes), "\xc3\xa9");
	assert_string_equal(bytes, "%C3%A9");
}

static void test_hostport_and_loopback(void **state)
{
	(void)state;
	char host[64];
	uint16_t port;
	assert_int_equal(
	    cc_split_hostport("127.0.0.1:7111", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 7111);
	assert_int_equal(cc_split_hostport("nohost", host, sizeof(host), &port),
	                 CC_EINVAL);
	assert_int_equal(
	    cc_split_hostport("h:99999", host, sizeof(host), &port), CC_EINVAL);
	assert_true(cc_is_loopback("127.0.0.1"));
	assert_true(cc_is_loopback("127.3.2.1"));
	assert_true(cc_is_loopback("localhost"));
	assert_false(cc_is_loopback("10.0.0.1"));
}

static void test_split_urls(void **state)
{
	(void)state;
	unsigned n;
	char **urls = cc_split_urls("http://a:1/,http://b:2", &n);
	assert_int_equal(n, 2);
	assert_string_equal(urls[0], "http://a:1"); /* no trailing slash */
	assert_string_equal(urls[1], "http://b:2");
	for (unsigned i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_escape),
	    cmocka_unit_test(test_hostport_and_loopback),
	    cmocka_unit_test(test_split_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
