/* SPDX-License-Identifier: MIT */
/*
 * inline.h - LT_INLINE: a function the compiler must inline.
 *
 * For the few small functions on the per-segment and per-record paths
 * where a call's own cost was measured as a large share of the work
 * (docs/architecture.md § Performance); everything else leaves the
 * choice to the compiler. Owns nothing else.
 */
#ifndef LT_INLINE_H
#define LT_INLINE_H

#define LT_INLINE static inline __attribute__((always_inline))

#endif
