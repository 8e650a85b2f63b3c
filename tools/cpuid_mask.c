/* LD_PRELOAD=cpuid_mask.so: the process sees an AVX2-only x86 CPU.
 *
 * XNNPACK picks its kernels from CPUID (through cpuinfo) when LiteRT loads a model. To time a .tflite as
 * an AVX2-only CPU (no AVX-512, VNNI or AMX) would run it, on a machine that has those, this library turns
 * on Linux's CPUID faulting (arch_prctl ARCH_SET_CPUID; the CPU flag `cpuid_fault`), so every CPUID
 * instruction traps, and answers it from a SIGSEGV handler with the real values minus those features.
 * The memory system stays the host's: it changes which kernels run, not the machine around them.
 * perf's kernel names (..._ukernel_...__avx2) show that it took. Linux only; x86-64 only.
 *
 * Build: cc -O2 -shared -fPIC -o cpuid_mask.so tools/cpuid_mask.c
 * Set CPUID_MASK_QUIET=1 to drop the start-up line on stderr.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ARCH_SET_CPUID 0x1012 /* asm/prctl.h; arg 0 = CPUID faults, 1 = CPUID runs */

static void say(const char *text) { ssize_t ignored = write(2, text, strlen(text)); (void)ignored; }

static void native_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
}

static void mask(uint32_t leaf, uint32_t sub, uint32_t r[4]) { /* r = eax, ebx, ecx, edx */
    if (leaf == 7 && sub == 0) {
        /* ebx: avx512 f(16) dq(17) ifma(21) pf(26) er(27) cd(28) bw(30) vl(31) */
        r[1] &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
        /* ecx: avx512 vbmi(1) vbmi2(6) vnni(11) bitalg(12) vpopcntdq(14) */
        r[2] &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
        /* edx: avx512 vp2intersect(8) fp16(23); amx bf16(22) tile(24) int8(25) */
        r[3] &= ~((1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25));
    } else if (leaf == 7 && sub == 1) {
        r[0] &= ~((1u << 4) | (1u << 5) | (1u << 23)); /* eax: avx-vnni(4) avx512-bf16(5) avx-ifma(23) */
        r[3] &= ~((1u << 4) | (1u << 5));              /* edx: avx-vnni-int8(4) avx-ne-convert(5) */
    }
}

static void on_fault(int sig, siginfo_t *info, void *context) {
    greg_t *regs = ((ucontext_t *)context)->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)regs[REG_RIP];
    if (ip[0] != 0x0f || ip[1] != 0xa2) { /* a real segmentation fault: die as the process would have */
        signal(sig, SIG_DFL);
        return;
    }
    uint32_t r[4];
    uint32_t leaf = (uint32_t)regs[REG_RAX], sub = (uint32_t)regs[REG_RCX];
    native_cpuid(leaf, sub, r);
    mask(leaf, sub, r);
    regs[REG_RAX] = r[0];
    regs[REG_RBX] = r[1];
    regs[REG_RCX] = r[2];
    regs[REG_RDX] = r[3];
    regs[REG_RIP] += 2; /* past the 2-byte CPUID instruction */
    (void)info;
}

__attribute__((constructor)) static void start(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &action, NULL);
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        signal(SIGSEGV, SIG_DFL);
        say("cpuid_mask: this CPU or kernel has no CPUID faulting (no cpuid_fault flag): features NOT masked\n");
        if (getenv("CPUID_MASK_REQUIRED")) _exit(3);
        return;
    }
    if (!getenv("CPUID_MASK_QUIET")) say("cpuid_mask: CPUID answers as an AVX2-only CPU (no AVX-512, VNNI, AMX)\n");
}
