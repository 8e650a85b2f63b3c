/* A qemu TCG plugin: counts the guest instructions a process executes and writes the total at exit.
 *
 *   qemu-aarch64 -plugin libinsncount.so,out=/path/count.txt ...
 *
 * Each translated block adds its instruction count to one counter every time it runs (an inline add,
 * no callback: a few percent of emulation time). The counter is shared, not per vCPU: the guest is run
 * with one compute thread, and idle threads add nothing. A block left early by an exception counts whole.
 * Build (qemu-plugin.h from the qemu source package of the installed version; glib headers):
 *   gcc -O2 -shared -fPIC -I DIR_WITH_QEMU_PLUGIN_H $(pkg-config --cflags glib-2.0) -o libinsncount.so insn_count.c
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t executed;
static char out_path[4096]; /* empty: write to stderr */

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed,
                                             qemu_plugin_tb_n_insns(tb));
}

static void on_exit(qemu_plugin_id_t id, void *unused)
{
    FILE *out = out_path[0] ? fopen(out_path, "w") : stderr;
    if (!out) {
        fprintf(stderr, "insn_count: cannot write %s\n", out_path);
        return;
    }
    fprintf(out, "%" PRIu64 "\n", executed);
    if (out != stderr) {
        fclose(out);
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        } else {
            fprintf(stderr, "insn_count: unknown argument %s (valid: out=PATH)\n", argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
