#include "config_file.h"

#include "groups_config.h"

int config_check(const char *path, char *err, size_t errlen)
{
	struct groups_config *c;
	if (groups_config_load(path, &c, err, errlen) < 0)
		return -1;
	groups_config_free(c);
	return 0;
}

int config_check_buffer(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
	struct groups_config *c;
	if (groups_config_parse(name, text, len, &c, err, errlen) < 0)
		return -1;
	groups_config_free(c);
	return 0;
}
