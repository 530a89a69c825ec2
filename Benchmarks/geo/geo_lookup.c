/* The reference for `residency geo lookup --format tsv -`: the short program anyone would write on
 * libmaxminddb. Reads addresses one a line on standard input, looks each up and prints ip<TAB>country
 * (or '-') through stdio's buffered output. Usage: geo_lookup DATABASE <addresses >answers */
#include <arpa/inet.h>
#include <maxminddb.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    MMDB_s mmdb;
    if (argc != 2 || MMDB_open(argv[1], MMDB_MODE_MMAP, &mmdb) != MMDB_SUCCESS) return 1;
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        struct sockaddr_storage address = {0};
        struct sockaddr_in *v4 = (struct sockaddr_in *)&address;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&address;
        if (inet_pton(AF_INET, line, &v4->sin_addr) == 1) v4->sin_family = AF_INET;
        else if (inet_pton(AF_INET6, line, &v6->sin6_addr) == 1) v6->sin6_family = AF_INET6;
        else { fprintf(stderr, "invalid address: %s\n", line); continue; }
        int error;
        MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&mmdb, (struct sockaddr *)&address, &error);
        MMDB_entry_data_s data;
        if (error == MMDB_SUCCESS && result.found_entry &&
            MMDB_get_value(&result.entry, &data, "country", "iso_code", NULL) == MMDB_SUCCESS && data.has_data)
            printf("%s\t%.*s\n", line, (int)data.data_size, data.utf8_string);
        else
            printf("%s\t-\n", line);
    }
    MMDB_close(&mmdb);
    return 0;
}
