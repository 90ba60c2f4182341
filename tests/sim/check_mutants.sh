#!/bin/bash
# Mutation check of the comparisons documented in docs/sim.md: each flip below must make
# tests/sim/test_boundaries.py fail.  Works on a copy (only the simulator core is rebuilt).
# Usage: PYTHON=/path/to/python tests/sim/check_mutants.sh   (prints one line per mutant)
W=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-python3}
T=$(mktemp -d)
declare -a NAMES=(rule1 rule2 rule3 clip entry_tie resp_tie max_position)
declare -a FILES=(_core.pyx _core.pyx _core.pyx _core.pyx _core.pyx _core.pyx engine.py)
declare -a OLD=("fq = self.lots(q - o.ahead)" "(passive_side == 0 and o.price > price)" "if o.side == our_side and o.price == price:" "            if o.ahead > new:" "            if te == t:" "            elif tp == t:" "abs(worst) > self.max_position")
declare -a NEW=("fq = self.lots(q - o.ahead + 1)" "(passive_side == 0 and o.price >= price)" "if o.side == our_side and o.price == price + 1:" "            if o.ahead < new:" "            if te == t and tr != t:" "            elif tp == t and tt != t:" "abs(worst) >= self.max_position")
for i in "${!NAMES[@]}"; do
  rm -rf $T/w && mkdir -p $T/w && cd $W && tar cf - --exclude='*.so' --exclude=__pycache__ src setup.py pyproject.toml README.md tests/sim tests/__init__.py tests/conftest.py 2>/dev/null | tar xf - -C $T/w
  cp $W/src/nanobook/*.so $T/w/src/nanobook/ 2>/dev/null; for so in $(cd $W && find src -name '*.so'); do cp $W/$so $T/w/$so; done
  find $T/w/src -name '*.pyx' ! -path '*/sim/_core.pyx' -delete
  f=$T/w/src/nanobook/sim/${FILES[$i]}
  python3 -c "
import sys; p,o,n=sys.argv[1:4]; s=open(p).read(); assert s.count(o)==1,(o,s.count(o)); open(p,'w').write(s.replace(o,n))" "$f" "${OLD[$i]}" "${NEW[$i]}" || { echo "${NAMES[$i]}: PATCH FAILED"; continue; }
  cd $T/w
  if [ "${FILES[$i]}" = "_core.pyx" ]; then rm -f src/nanobook/sim/_core*.so; PYTHONPATH=$PWD/src $PY setup.py -q build_ext --inplace > build.log 2>&1 || { echo "${NAMES[$i]}: BUILD FAILED"; continue; }; fi
  out=$(PYTHONPATH=$PWD/src HYPOTHESIS_PROFILE=dev timeout 600 $PY -m pytest -q -p no:cacheprovider tests/sim/test_boundaries.py 2>&1 | tail -1)
  echo "${NAMES[$i]}: ${OLD[$i]} -> ${NEW[$i]}: $out"
done
