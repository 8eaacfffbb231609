/* cocoon-acpi-probe: /init of the capture-acpi probe guest (static, no libraries).
 *
 * Reads the fw_cfg files etc/acpi/tables, etc/acpi/rsdp and etc/table-loader, from
 * /sys/firmware/qemu_fw_cfg/by_name/<name>/raw when the qemu_fw_cfg driver is present,
 * otherwise straight from the fw_cfg I/O ports (selector 0x510, data 0x511, directory
 * at selector 0x19), writes them to the serial port in the acpi_wire.h format and
 * powers the guest off. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-launcher/acpi_wire.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_FILE_DIR 0x19

static int out_fd = -1;

static void emit(const char *s, size_t n)
{
	while (n) {
		ssize_t k = write(out_fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

static void emitf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emitf(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		emit(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void fail(const char *what)
{
	emitf("COCOON-ACPI-ERROR %s (errno %d)\n", what, errno);
	sync();
	reboot(RB_POWER_OFF);
	_exit(1);
}

static int read_sysfs(const char *name, uint8_t **out, size_t *len)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/firmware/qemu_fw_cfg/by_name/%s/raw", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 1 << 16, n = 0;
	uint8_t *p = malloc(cap);
	for (;;) {
		if (!p)
			return -ENOMEM;
		if (n == cap) {
			if (cap >= CL_ACPI_BLOB_MAX)
				return -EFBIG;
			cap *= 2;
			uint8_t *q = realloc(p, cap);
			if (!q) {
				free(p);
				return -ENOMEM;
			}
			p = q;
		}
		ssize_t k = read(fd, p + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(p);
			close(fd);
			return -errno;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	*out = p;
	*len = n;
	return 0;
}

static void port_read(uint16_t sel, uint8_t *buf, size_t n)
{
	outw(sel, FW_CFG_PORT_SEL);
	for (size_t i = 0; i < n; i++)
		buf[i] = inb(FW_CFG_PORT_DATA);
}

static int read_ports(const char *name, uint8_t **out, size_t *len)
{
	static uint8_t *dir;
	static size_t dirlen;
	if (!dir) {
		if (iopl(3) != 0)
			return -errno;
		uint8_t sig[4];
		port_read(FW_CFG_SIGNATURE, sig, 4);
		if (memcmp(sig, "QEMU", 4) != 0)
			return -ENODEV;
		uint8_t cnt[4];
		port_read(FW_CFG_FILE_DIR, cnt, 4);
		uint32_t count = (uint32_t)cnt[0] << 24 | (uint32_t)cnt[1] << 16 | (uint32_t)cnt[2] << 8 | cnt[3];
		if (count > 4096)
			return -EINVAL;
		dirlen = 4 + 64 * (size_t)count;
		dir = malloc(dirlen);
		if (!dir)
			return -ENOMEM;
		port_read(FW_CFG_FILE_DIR, dir, dirlen);
	}
	uint16_t sel;
	uint32_t size;
	int r = cl_fwcfg_find(dir, dirlen, name, &sel, &size);
	if (r < 0)
		return r;
	if (size > CL_ACPI_BLOB_MAX)
		return -EFBIG;
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		return -ENOMEM;
	port_read(sel, p, size);
	*out = p;
	*len = size;
	return 0;
}

int main(void)
{
	mkdir("/dev", 0755);
	mkdir("/sys", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	out_fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (out_fd < 0)
		out_fd = STDOUT_FILENO;
	const char *source = "sysfs";
	for (int i = 0; i < CL_ACPI_NBLOBS; i++) {
		const char *name = cl_acpi_blob_names[i];
		uint8_t *p = NULL;
		size_t n = 0;
		if (read_sysfs(name, &p, &n) < 0) {
			source = "ports";
			int r = read_ports(name, &p, &n);
			if (r < 0) {
				errno = -r;
				fail(name);
			}
		}
		emitf("COCOON-ACPI-BEGIN %s %lu\n", name, (unsigned long)n);
		for (size_t off = 0; off < n; off += CL_ACPI_LINE_BYTES) {
			char line[256];
			size_t take = n - off < CL_ACPI_LINE_BYTES ? n - off : CL_ACPI_LINE_BYTES;
			size_t k = cl_acpi_format_data(name, (uint32_t)off, p + off, take, line);
			emit(line, k);
		}
		char endl[128];
		int k = snprintf(endl, sizeof(endl), "COCOON-ACPI-END %s\n", name);
		emit(endl, (size_t)k);
		free(p);
	}
	emitf("COCOON-ACPI-DONE %s %d\n", source, CL_ACPI_NBLOBS);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
