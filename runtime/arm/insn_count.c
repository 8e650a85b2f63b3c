/* A qemu TCG plugin: counts the guest instructions a process executes and writes the total at exit.
 *
 *   qemu-aarch64 -plugin libinsncount.so,out=/path/count.txt[,blocks=/path/blocks.txt] ...
 *
 * With blocks=, it also writes one line per translated block that ran: its guest start address (hex),
 * its instruction count and how many times it ran; the host maps the addresses to the symbols of the
 * libraries the guest loaded (runtime/arm/symbols.py). Each block gets its own inline counter: the
 * same few percent of emulation time as the total.
 * Each translated block adds its instruction count to one counter every time it runs (an inline add,
 * no callback: a few percent of emulation time). The counter is shared, not per vCPU: the guest is run
 * with one compute thread, and idle threads add nothing. A block left early by an exception counts whole.
 * Build (qemu-plugin.h from the qemu source package of the installed version; glib headers):
 *   gcc -O2 -shared -fPIC -I DIR_WITH_QEMU_PLUGIN_H $(pkg-config --cflags glib-2.0) -o libinsncount.so insn_count.c
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t executed;
static char out_path[4096];    /* empty: write to stderr */
static char blocks_path[4096]; /* empty: no per-block counts */

typedef struct {
    uint64_t vaddr;
    uint64_t insns;
    uint64_t runs; /* incremented inline each time the block runs */
} Block;

/* (start address, instruction count) -> Block. A block translated again (its code cache flushed)
 * reuses its counter; one with the same start but other length (code split differently) gets its own.
 * Blocks are never freed: the inline adds point into them. */
static GHashTable *blocks;
static GMutex blocks_lock;

static void count_block(struct qemu_plugin_tb *tb)
{
    uint64_t vaddr = qemu_plugin_tb_vaddr(tb), insns = qemu_plugin_tb_n_insns(tb);
    uint64_t key = vaddr ^ (insns << 52); /* user-space addresses fit in 48 bits */
    g_mutex_lock(&blocks_lock);
    Block *block = g_hash_table_lookup(blocks, &key);
    if (!block) {
        block = g_new0(Block, 1);
        block->vaddr = vaddr;
        block->insns = insns;
        uint64_t *stored = g_new(uint64_t, 1);
        *stored = key;
        g_hash_table_insert(blocks, stored, block);
    }
    g_mutex_unlock(&blocks_lock);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &block->runs, 1);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed,
                                             qemu_plugin_tb_n_insns(tb));
    if (blocks) {
        count_block(tb);
    }
}

static void write_blocks(void)
{
    FILE *out = fopen(blocks_path, "w");
    if (!out) {
        fprintf(stderr, "insn_count: cannot write %s\n", blocks_path);
        return;
    }
    GHashTableIter iter;
    gpointer key, value;
    g_hash_table_iter_init(&iter, blocks);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const Block *block = value;
        if (block->runs) {
            fprintf(out, "%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", block->vaddr, block->insns, block->runs);
        }
    }
    fclose(out);
}

static void at_exit(qemu_plugin_id_t id, void *unused)
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
    if (blocks) {
        write_blocks();
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        } else if (strncmp(argv[i], "blocks=", 7) == 0) {
            snprintf(blocks_path, sizeof blocks_path, "%s", argv[i] + 7);
            blocks = g_hash_table_new(g_int64_hash, g_int64_equal);
        } else {
            fprintf(stderr, "insn_count: unknown argument %s (valid: out=PATH, blocks=PATH)\n", argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
