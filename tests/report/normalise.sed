# normalise.sed - what may differ between machines and re-recordings of
# the same scenario: wall-clock times, the host kernel, lotrace's version.
s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z/TIME/g
s/\b[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\b/TIME/g
s/^(\| Host kernel \| )[^|(]*/\1KERNEL /
s/^(\| lotrace \| )[^|]*/\1VERSION /
