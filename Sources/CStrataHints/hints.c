// The hints are inline functions in include/strata_hints.h; SwiftPM wants a source file in a C target.
#include "strata_hints.h"
