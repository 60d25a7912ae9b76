/** The classes of the models make-models.ts trains, in the order of their outputs. */
export const SPECIES = ['Iris-setosa', 'Iris-versicolor', 'Iris-virginica'] as const;
