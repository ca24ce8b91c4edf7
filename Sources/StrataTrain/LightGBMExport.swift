/// A GBDT model as a LightGBM text model (what `lightgbm.Booster(model_file:)` and LightGBM's C API load),
/// so a churn model trained by Strata can be served where LightGBM runs. The exported model predicts the
/// same raw scores bit for bit on the same feature values:
///
/// * Strata's bins become raw tests LightGBM makes on the values: a numeric split "bin <= t" is
///   `x <= upperBounds[t]` (the last value bin also holds values above its bound, so a split at or past it
///   is `x <= inf`), NaN follows the default direction (missing type NaN); a categorical split is the set
///   of category codes that go left, as LightGBM's bitset.
/// * LightGBM's categorical test always sends NaN, negative codes and codes no bitset holds to the right.
///   Strata's missing bin holds NaN *and* every category without a bin of its own; when that bin goes
///   left, the children are swapped and the bitset lists the value bins that went right, so NaN and the
///   others go right, as LightGBM can say.
/// * The base score is added to the first tree's leaves: LightGBM sums trees from 0 in order, Strata from
///   the base, so `0 + (base + leaf0) + leaf1 + …` is Strata's `base + leaf0 + leaf1 + …` addition for
///   addition.
/// * Doubles are written with Swift's shortest round-trip digits (`1e-05`, `inf`); LightGBM reads
///   thresholds and leaf values with a correctly rounding parser (strtod for `inf`), so they read back
///   bit for bit.
/// * String features are category codes `0..<n` in `categoryNames` order; the file's last line
///   (`pandas_categorical:`) lists those names, so a pandas DataFrame with the string columns as
///   `pd.Categorical` is coded exactly as Strata codes its strings (unknown strings and NULL become NaN,
///   which goes where Strata's missing bin goes). A string feature is one with category names: one that
///   was NULL in every training row has none, is not listed, and is never split on (pass it as NaN).
/// * A tree without splits is a one-leaf tree; a model without trees is one one-leaf tree holding the base.
///
/// What LightGBM cannot say is refused with a `TrainError` instead of written wrong: feature names with
/// spaces (its header is space separated) or JSON's special characters, a categorical split that would
/// send a category code LightGBM truncates or treats as negative the other way, codes above `Int32.max`,
/// a numeric threshold within 1e-35 of 0 (other than 0), which LightGBM's zero rounding would blur.
public enum LightGBMExport {
    /// LightGBM's decision_type bits: categorical, default left, and the missing type (2: NaN) in bits 2-3.
    static let categoricalBit: Int8 = 1
    static let defaultLeftBit: Int8 = 2
    static let missingNaN: Int8 = 2 << 2
    /// LightGBM's kZeroThreshold (a float 1e-35): its prediction API turns smaller magnitudes into 0.
    static let zeroThreshold = Double(Float(1e-35))
    /// Characters LightGBM refuses in feature names besides spaces (which split its header): they break the
    /// JSON of `dump_model`, and LightGBM's own training rejects them.
    static let forbiddenNameCharacters: Set<Character> = ["\"", ",", ":", "[", "]", "{", "}", "\\"]

    /// The model as LightGBM's text format (version v4), ending with the `pandas_categorical:` line.
    public static func text(_ model: GBDTModel) throws -> String {
        let featureCount = model.featureNames.count
        guard featureCount > 0, model.mappers.count == featureCount, model.categoryNames.count == featureCount else {
            throw TrainError("cannot export to LightGBM: the model has \(featureCount) feature names, \(model.mappers.count) bin mappers "
                + "and \(model.categoryNames.count) category lists")
        }
        for name in model.featureNames {
            if name.isEmpty || name.contains(where: { $0.isWhitespace || $0.isNewline || forbiddenNameCharacters.contains($0) }) {
                throw TrainError("cannot export to LightGBM: feature name '\(name)' is empty or has a space or one of \" , : [ ] { } \\ "
                    + "(LightGBM's feature names are separated by spaces and must be JSON-safe); rename the feature in its view")
            }
        }
        guard model.baseScore.isFinite else { throw TrainError("cannot export to LightGBM: the base score is \(model.baseScore)") }

        // A model without trees still needs one for LightGBM to carry the base score: a single leaf.
        let trees = model.trees.isEmpty ? [Tree()] : model.trees
        var blocks: [String] = []
        for (index, tree) in trees.enumerated() {
            do {
                blocks.append("Tree=\(index)\n" + (try treeText(tree, model: model, addingBase: index == 0)) + "\n")
            } catch let error as TrainError {
                throw TrainError("cannot export to LightGBM: tree \(index): \(error.message)")
            }
        }

        var text = "tree\n"
        text += "version=v4\n"
        text += "num_class=1\n"
        text += "num_tree_per_iteration=1\n"
        text += "label_index=0\n"
        text += "max_feature_idx=\(featureCount - 1)\n"
        text += "objective=binary sigmoid:1\n"
        text += "feature_names=" + model.featureNames.joined(separator: " ") + "\n"
        text += "feature_infos=" + model.mappers.map(featureInfo).joined(separator: " ") + "\n"
        // LightGBM's loader cuts the trees at these byte offsets (and reads them in parallel).
        text += "tree_sizes=" + blocks.map { String($0.utf8.count) }.joined(separator: " ") + "\n"
        text += "\n"
        text += blocks.joined()
        text += "end of trees\n"

        // Split counts, LightGBM's default importance, most used first (ties in feature order).
        var splits = [Int](repeating: 0, count: featureCount)
        for tree in model.trees { for feature in tree.splitFeature { splits[Int(feature)] += 1 } }
        text += "\nfeature_importances:\n"
        let used = splits.indices.filter { splits[$0] > 0 }.sorted { (a: Int, b: Int) -> Bool in splits[a] != splits[b] ? splits[a] > splits[b] : a < b }
        for feature in used {
            text += "\(model.featureNames[feature])=\(splits[feature])\n"
        }

        // Only what the model itself knows: the training parameters are in the run, not the model.
        let categorical = model.mappers.indices.filter { model.mappers[$0].isCategorical }
        text += "\nparameters:\n"
        text += "[boosting: gbdt]\n"
        text += "[objective: binary]\n"
        text += "[num_class: 1]\n"
        text += "[sigmoid: 1]\n"
        text += "[num_iterations: \(trees.count)]\n"
        text += "[categorical_feature: \(categorical.map(String.init).joined(separator: ","))]\n"
        text += "\nend of parameters\n"

        // Read by LightGBM's Python package from the file's last line: the category lists of the string
        // features, in feature order, which it uses to code pd.Categorical columns.
        let stringFeatures = model.categoryNames.filter { !$0.isEmpty }
        let lists: [String] = stringFeatures.map { names in "[" + names.map(jsonString).joined(separator: ",") + "]" }
        text += "\npandas_categorical:[" + lists.joined(separator: ",") + "]\n"
        return text
    }

    /// One tree's lines (LightGBM's `Tree::ToString` fields), ending with the blank line that closes it.
    static func treeText(_ tree: Tree, model: GBDTModel, addingBase: Bool) throws -> String {
        let nodeCount = tree.splitFeature.count
        guard tree.leafValue.count == nodeCount + 1, tree.leafCount.count == nodeCount + 1,
              [tree.thresholdBin.count, tree.defaultLeft.count, tree.isCategorical.count, tree.leftBins.count, tree.left.count,
               tree.right.count, tree.gain.count, tree.internalCount.count].allSatisfy({ $0 == nodeCount })
        else { throw TrainError("its arrays do not all describe \(nodeCount) internal nodes and \(nodeCount + 1) leaves") }
        // Strata adds the base before the first tree's leaf; the same addition, done here once.
        let leafValues = addingBase ? tree.leafValue.map { model.baseScore + $0 } : tree.leafValue
        guard leafValues.allSatisfy(\.isFinite) else { throw TrainError("a leaf value is not a finite number") }

        var thresholds: [String] = []
        var decisionTypes: [Int8] = []
        var left = tree.left
        var right = tree.right
        var catBoundaries = [0]
        var catWords: [UInt32] = []
        for node in 0..<nodeCount {
            let feature = Int(tree.splitFeature[node])
            guard model.mappers.indices.contains(feature) else { throw TrainError("node \(node) splits on feature \(feature), which does not exist") }
            let mapper = model.mappers[feature]
            let name = model.featureNames[feature]
            if tree.isCategorical[node] {
                guard mapper.isCategorical else { throw TrainError("node \(node) is a categorical split on numeric feature \(name)") }
                let leftBins = Set(tree.leftBins[node].map(Int.init))
                // LightGBM sends NaN and unknown codes right: orient the split so Strata's missing bin goes right.
                let swap = leftBins.contains(mapper.missingBin)
                if swap { (left[node], right[node]) = (right[node], left[node]) }
                let goesLeft = mapper.categories.indices.map { leftBins.contains($0) != swap }
                let words = try bitset(codes: mapper.categories, goesLeft: goesLeft, feature: name)
                guard catWords.count + words.count <= Int(Int32.max) else { throw TrainError("its category bitsets exceed LightGBM's size limit") }
                thresholds.append(String(catBoundaries.count - 1))
                catWords += words
                catBoundaries.append(catWords.count)
                decisionTypes.append(categoricalBit | missingNaN)
            } else {
                guard !mapper.isCategorical else { throw TrainError("node \(node) is a numeric split on categorical feature \(name)") }
                let bin = Int(tree.thresholdBin[node])
                guard bin >= 0 else { throw TrainError("node \(node) has threshold bin \(bin)") }
                // Values above the last bound still fall in the last value bin: a split there sends every number left.
                let threshold = bin >= mapper.valueBinCount - 1 ? Double.infinity : mapper.upperBounds[bin]
                // LightGBM's prediction API reads every |x| <= 1e-35 as 0, so a threshold among those values would
                // send some of them the other way.
                if threshold != 0, threshold >= -zeroThreshold, threshold < zeroThreshold {
                    throw TrainError("a split on \(name) is at \(number(threshold)); LightGBM reads values within 1e-35 of 0 as 0")
                }
                thresholds.append(number(threshold))
                decisionTypes.append(missingNaN | (tree.defaultLeft[node] ? defaultLeftBit : 0))
            }
        }

        // Strata keeps no hessian sums: the row counts stand in for LightGBM's weights, and an internal node's
        // value is the count-weighted mean of its leaves (what it would predict as a leaf). Both are only
        // shown by LightGBM's dumps and plots; prediction reads neither.
        let leafCounts = try tree.leafCount.map(count)
        let internalCounts = try tree.internalCount.map(count)
        var internalValues = [Double](repeating: 0, count: nodeCount)
        func subtree(_ child: Int32) -> (sum: Double, count: Double) {
            if child < 0 {
                let leaf = Int(~child)
                return (leafValues[leaf] * tree.leafCount[leaf], tree.leafCount[leaf])
            }
            let node = Int(child)
            let (a, b) = (subtree(tree.left[node]), subtree(tree.right[node]))
            let total = (sum: a.sum + b.sum, count: a.count + b.count)
            internalValues[node] = total.count > 0 ? total.sum / total.count : 0
            return total
        }
        if nodeCount > 0 { _ = subtree(0) }

        func line(_ key: String, _ values: [String]) -> String { key + "=" + values.joined(separator: " ") }
        let nodeFeatures: [String] = tree.splitFeature.map { String($0) }
        let gains: [String] = tree.gain.map(number)
        let decisions: [String] = decisionTypes.map { String($0) }
        let lefts: [String] = left.map { String($0) }
        let rights: [String] = right.map { String($0) }
        let values: [String] = leafValues.map(number)
        let leafCountText: [String] = leafCounts.map { String($0) }
        let internalValueText: [String] = internalValues.map { number($0.isFinite ? $0 : 0) }
        let internalCountText: [String] = internalCounts.map { String($0) }
        var lines: [String] = []
        lines.append(line("num_leaves", [String(nodeCount + 1)]))
        lines.append(line("num_cat", [String(catBoundaries.count - 1)]))
        lines.append(line("split_feature", nodeFeatures))
        lines.append(line("split_gain", gains))
        lines.append(line("threshold", thresholds))
        lines.append(line("decision_type", decisions))
        lines.append(line("left_child", lefts))
        lines.append(line("right_child", rights))
        lines.append(line("leaf_value", values))
        lines.append(line("leaf_weight", leafCountText))
        lines.append(line("leaf_count", leafCountText))
        lines.append(line("internal_value", internalValueText))
        lines.append(line("internal_weight", internalCountText))
        lines.append(line("internal_count", internalCountText))
        if catBoundaries.count > 1 {
            lines.append(line("cat_boundaries", catBoundaries.map { String($0) }))
            lines.append(line("cat_threshold", catWords.map { String($0) }))
        }
        lines.append("is_linear=0")
        // Strata's leaf values already include the learning rate.
        lines.append("shrinkage=1")
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// The bitset of the codes that go left, after checking that LightGBM's test — truncate the value to an
    /// int, negative goes right, otherwise left when its bit is set — sends every code of the mapper the
    /// way Strata does.
    static func bitset(codes: [Double], goesLeft: [Bool], feature: String) throws -> [UInt32] {
        var leftCodes: [Int] = []
        for (code, left) in zip(codes, goesLeft) where left {
            guard code >= 0, code <= Double(Int32.max), code.rounded(.towardZero) == code else {
                throw TrainError("a split on \(feature) separates category \(number(code)) from NULL and unseen values, which LightGBM "
                    + "cannot: it only tells apart categories 0...\(Int32.max) (whole numbers), the others go with NULL")
            }
            leftCodes.append(Int(code))
        }
        var words = [UInt32](repeating: 0, count: (leftCodes.max() ?? -1) / 32 + 1)
        for code in leftCodes { words[code / 32] |= 1 << UInt32(code % 32) }
        for (code, left) in zip(codes, goesLeft) where !left {
            // What LightGBM makes of it: C's truncation (saturating past Int32's range on some machines).
            guard code > -1 else { continue }
            let truncated = code >= Double(Int32.max) ? Int(Int32.max) : Int(code.rounded(.towardZero))
            if leftCodes.contains(truncated) {
                throw TrainError("a split on \(feature) sends categories \(number(code)) and \(truncated) different ways; LightGBM "
                    + "truncates categories to whole numbers and reads both as \(truncated)")
            }
        }
        return words
    }

    /// LightGBM's feature_infos entry: `[min:max]` of a numeric feature (Strata keeps bin bounds, not the
    /// training range, so the range is open), the category codes of a categorical one, `none` when unused.
    static func featureInfo(_ mapper: BinMapper) -> String {
        if mapper.isCategorical {
            let codes = mapper.categories.filter { $0 >= 0 && $0 <= Double(Int32.max) && $0.rounded(.towardZero) == $0 }.map { String(Int($0)) }
            return codes.isEmpty ? "none" : codes.joined(separator: ":")
        }
        return mapper.upperBounds.count <= 1 ? "none" : "[-inf:inf]"
    }

    /// A count as LightGBM's int.
    static func count(_ value: Double) throws -> Int {
        guard value.isFinite, value >= 0, value.rounded() <= Double(Int32.max) else { throw TrainError("a node count \(value) is not a count LightGBM can hold") }
        return Int(value.rounded())
    }

    /// Shortest digits that read back to the same double (`inf`/`-inf` for infinities, which strtod reads).
    static func number(_ value: Double) -> String { "\(value)" }

    /// A JSON string, ASCII only as Python's json.dumps writes it.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(unit)!)
            default:
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out + "\""
    }
}
