// Planted bugs, built only in the sanitizer builds (not part of the suite). Each mode must make
// the sanitizer abort with its report; scripts/expect_sanitizer_abort.sh checks that it does, so
// a sanitizer build that silently catches nothing fails CI. Values come from argc so that the
// compiler cannot fold the bugs away.
#include <cstdio>
#include <cstring>
#include <thread>

namespace {
volatile int sink = 0;
int shared_counter = 0;  // the race mode's unguarded variable
}  // namespace

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "";
    const int big = 2147483600 + argc;  // INT_MAX - 47 + argc
    if (std::strcmp(mode, "signed-overflow") == 0) {
        sink = big + 100;  // UBSan: signed integer overflow
    } else if (std::strcmp(mode, "float-cast") == 0) {
        volatile double d = 1e30 * argc;
        sink = static_cast<int>(d);  // UBSan: float-cast-overflow
    } else if (std::strcmp(mode, "heap-overflow") == 0) {
        int* volatile p = new int[4];  // volatile: UBSan's object-size check must not see it first
        sink = p[3 + argc];            // ASan: heap-buffer-overflow (index 4 of 4)
        delete[] p;
    } else if (std::strcmp(mode, "leak") == 0) {
        int* p = new int[argc * 8];
        p[0] = argc;
        sink = p[0];
        p = nullptr;  // LeakSanitizer: never freed
    } else if (std::strcmp(mode, "race") == 0) {
        std::thread t([] { ++shared_counter; });  // TSan: data race with the line below
        ++shared_counter;
        t.join();
        sink = shared_counter;
    } else {
        std::fprintf(stderr, "usage: %s signed-overflow|float-cast|heap-overflow|leak|race\n",
                     argv[0]);
        return 2;
    }
    std::printf("canary %s: no report\n", mode);
    return 0;
}
